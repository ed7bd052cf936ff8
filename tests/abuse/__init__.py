"""Raw abuse beyond the schemas, for every vendor endpoint, through a real uvicorn on loopback.

Truncated, invalid-UTF-8 and deeply nested JSON, empty bodies, wrong and missing content types,
bad multipart, a 100 MB body (declared, and chunked without a length), slow-dripping bodies and
64 KB headers. Each gets the vendor's own error (or, where noted, a clean close of the
connection) within a bound; the server keeps serving; memory stays bounded by the documented
body and journal limits. One module for each kind of abuse; calls.py (the valid request of each
endpoint), wire.py (sending, through httpx or a raw socket) and rig.py (what counts as the
vendor's answer) are what they share, and conftest.py the servers and clients.

"The vendor's own answer" is what tests/test_conformance.py checks: under 500, and a body that
passes the contract's schema for its endpoint and status (or the endpoint's error schema, for
vendors that answer errors with HTTP 200), or the DAMO gateway's empty body with the message in
``X-Ca-Error-Message``. On top of that, an error must be a row of the vendor's error table, and
the row the pipeline's trigger names for the situation (``body.invalid``, ``body.too_large`` ...).
"""
