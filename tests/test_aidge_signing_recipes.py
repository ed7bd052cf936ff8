"""Aidge's two request signatures as recipes: the test vectors of the vendor notes, and an
independent implementation (tests/aidge_rig.py, hmac and hashlib only) against
mock_server.vendors.aidge_signing on generated secrets, timestamps, API names and parameters."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.vendors import aidge_signing as signing
from tests.aidge_rig import ref_iop, ref_v2

# The vendor notes' test vectors (part A1, "Signing").
DOC_SECRET = "S4etzZ73nF08vOXVhk3wZjIaLSHw0123"
V2_STAMP = "1700000000000"
V2_SIGN = "6873910AD684AA9A8690955552D90E73D03074FDC35122604BC01170D91C762C"
IOP_API = "/ai/virtual/tryon-results"
IOP_PARAMS = {
    "app_key": "512345",
    "partner_id": "iop-sdk-python-20220609",
    "sign_method": "sha256",
    "task_id": "abc",
    "timestamp": "1700000000000",
}
IOP_MESSAGE = (
    "/ai/virtual/tryon-resultsapp_key512345partner_idiop-sdk-python-20220609"
    "sign_methodsha256task_idabctimestamp1700000000000"
)
IOP_SIGN = "4F26A5646901208CCFC8E76192F52964D4D9BE1C2C0057C92C2F892B3D03D576"


def test_the_v2_vector_of_the_notes() -> None:
    assert signing.v2_sign(DOC_SECRET, V2_STAMP) == V2_SIGN == ref_v2(DOC_SECRET, V2_STAMP)
    params = {"sign_ver": "v2", "timestamp": V2_STAMP, "sign": V2_SIGN}
    assert signing.valid(DOC_SECRET, "/any/path", params)
    assert signing.valid(DOC_SECRET, "/any/path", {**params, "sign": V2_SIGN.lower()})
    assert not signing.valid(DOC_SECRET, "/any/path", {**params, "timestamp": "1700000000001"})


def test_the_iop_vector_of_the_notes() -> None:
    assert signing.iop_message(IOP_API, IOP_PARAMS) == IOP_MESSAGE
    assert (
        signing.iop_sign(DOC_SECRET, IOP_API, IOP_PARAMS)
        == IOP_SIGN
        == ref_iop(DOC_SECRET, IOP_API, IOP_PARAMS)
    )
    assert signing.iop_sign(DOC_SECRET, IOP_API, IOP_PARAMS, skip_empty=True) == IOP_SIGN
    assert signing.valid(DOC_SECRET, IOP_API, {**IOP_PARAMS, "sign": IOP_SIGN})
    assert not signing.valid(DOC_SECRET, "/ai/virtual/tryon", {**IOP_PARAMS, "sign": IOP_SIGN})
    assert not signing.valid(DOC_SECRET, IOP_API, {**IOP_PARAMS, "task_id": "abd", "sign": IOP_SIGN})


NAMES = st.text(max_size=12).filter(lambda n: n not in ("sign", "sign_ver"))
PARAMS = st.dictionaries(NAMES, st.text(max_size=24), max_size=8)
SECRETS = st.text(min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(secret=SECRETS, stamp=st.text(max_size=20))
def test_v2_agrees_with_an_independent_implementation(secret: str, stamp: str) -> None:
    expected = ref_v2(secret, stamp)
    assert signing.v2_sign(secret, stamp) == expected
    params = {"sign_ver": signing.V2, "timestamp": stamp, "sign": expected}
    assert signing.valid(secret, "/ai/virtual/tryon", params)
    assert signing.valid(secret, "/ai/virtual/tryon", {**params, "sign": expected.lower()})
    assert not signing.valid(secret + "x", "/ai/virtual/tryon", params)


@settings(max_examples=150, deadline=None)
@given(secret=SECRETS, api=st.text(max_size=30), params=PARAMS, noise=st.text(min_size=1, max_size=4))
def test_iop_agrees_with_an_independent_implementation(
    secret: str, api: str, params: dict[str, str], noise: str
) -> None:
    python, java = ref_iop(secret, api, params), ref_iop(secret, api, params, java=True)
    assert signing.iop_sign(secret, api, params) == python
    assert signing.iop_sign(secret, api, params, skip_empty=True) == java
    # "sign" itself is never signed.
    assert signing.iop_sign(secret, api, {**params, "sign": noise}) == python
    for sign in (python, java, python.lower()):
        assert signing.valid(secret, api, {**params, "sign": sign})
    # (HMAC pads keys with zero bytes, so a secret that differs only by trailing NULs signs alike.)
    other = secret + noise if noise.strip("\x00") else secret + "x"
    assert not signing.valid(other, api, {**params, "sign": python})
    changed = {**params, "extra_param_added_after_signing": noise}
    assert not signing.valid(secret, api, {**changed, "sign": python})
