"""The Alibaba Cloud API Gateway in front of the DAMO try-on API, driven over a real socket.

Requests are signed by the PyPI signer ``aliyun-api-gateway-python`` (0.1.0) and, for the
header-case and separator variants, by a small independent signer written here from the
string-to-sign in the vendor notes (A3). Expected statuses and texts come from the DAMO contract.
One module for each thing the gateway checks; rig.py holds what they share, and conftest.py
gives each module a server of its own.
"""
