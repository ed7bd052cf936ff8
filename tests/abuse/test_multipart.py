"""Bad multipart on the AILabTools endpoints (no or the wrong boundary, truncated parts, parts
without a name or disposition, LF line endings, garbage): the vendor's body error; and forms the
parser reads whole with something odd inside (invalid UTF-8, a 1 MB part header): a vendor
answer, in time."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest

from tests.abuse.calls import MB, MULTIPART, valid_call
from tests.abuse.rig import Rig, assert_error, error_rows, follow_up
from tests.abuse.wire import send

Form = tuple[str, bytes]  # (Content-Type, body)


def _boundary(kind: str) -> bytes:
    return kind.split("boundary=", 1)[1].encode()


def _first_file(body: bytes) -> tuple[int, int]:
    """Where the first file part's data starts and ends in a form httpx encoded."""
    start = body.index(b"\r\n\r\n", body.index(b"filename=")) + 4
    return start, body.index(b"\r\n--", start)


def _nameless(form: Form) -> Form:
    kind, body = form
    return kind, re.sub(rb'form-data; name="[^"]*"; filename', b"form-data; filename", body, count=1)


def _no_disposition(form: Form) -> Form:
    kind, body = form
    return kind, re.sub(rb"Content-Disposition: [^\r]*\r\n", b"", body, count=1)


def _header_without_colon(form: Form) -> Form:
    kind, body = form
    return kind, body.replace(b"Content-Disposition: ", b"Content-Disposition ", 1)


def _truncated_part(form: Form) -> Form:
    kind, body = form
    start, end = _first_file(body)
    return kind, body[: (start + end) // 2]


def _no_closing_boundary(form: Form) -> Form:
    kind, body = form
    return kind, body[: body.rindex(b"--" + _boundary(kind))]


def _lf_only(form: Form) -> Form:
    kind, body = form
    return kind, body.replace(b"\r\n", b"\n")


def _huge_part_header(form: Form) -> Form:
    """A Content-Disposition of about 1 MB (under the 2 MB body limit): bounded by the body limit."""
    kind, body = form
    assert b'filename="' in body
    return kind, body.replace(b'filename="', b'filename="' + b"a" * MB, 1)


BAD_MULTIPART: dict[str, Callable[[Form], Form]] = {
    "no-boundary": lambda f: ("multipart/form-data", f[1]),
    "empty-boundary": lambda f: ('multipart/form-data; boundary=""', f[1]),
    "boundary-mismatch": lambda f: ("multipart/form-data; boundary=not-the-one-used", f[1]),
    "truncated-part": _truncated_part,
    "no-closing-boundary": _no_closing_boundary,
    "nameless-part": _nameless,
    "part-without-disposition": _no_disposition,
    "part-header-without-colon": _header_without_colon,
    "lf-line-endings": _lf_only,
    "garbage": lambda f: (f[0], bytes(range(256)) * 64),
    "empty": lambda f: (f[0], b""),
}
# Forms the parser reads whole, with something odd inside: a vendor answer (which error is the
# request rules' business); True where it cannot be a success.
ODD_MULTIPART: dict[str, tuple[Callable[[Form], Form], bool]] = {
    # the first part's value (a text field in every valid form here) starts with bytes no UTF-8 has
    "invalid-utf8-text-field": (lambda f: (f[0], f[1].replace(b"\r\n\r\n", b"\r\n\r\n\xff\xfe", 1)), True),
    "only-the-closing-boundary": (lambda f: (f[0], b"--" + _boundary(f[0]) + b"--\r\n"), True),
    "huge-part-header": (_huge_part_header, False),
    "content-type-params-doubled": (lambda f: (f[0] + "; boundary=other; charset=utf-8", f[1]), False),
}


@pytest.mark.parametrize("case", sorted(BAD_MULTIPART))
@pytest.mark.parametrize(("vendor", "endpoint_id"), MULTIPART)
def test_bad_multipart_gets_the_vendors_body_error(
    rig: Rig, vendor: str, endpoint_id: str, case: str
) -> None:
    server, tenant, wire = rig.server, rig.tenant, rig.http
    valid = valid_call(server, tenant, vendor, endpoint_id)
    kind, body = BAD_MULTIPART[case]((valid.headers["Content-Type"], valid.body))
    response = send(wire, server, valid.with_body(body, kind))
    assert_error(vendor, response, "body.invalid")
    follow_up(server, tenant, wire, vendor, response)


@pytest.mark.parametrize("case", sorted(ODD_MULTIPART))
@pytest.mark.parametrize(("vendor", "endpoint_id"), MULTIPART)
def test_odd_multipart_gets_a_vendor_answer(rig: Rig, vendor: str, endpoint_id: str, case: str) -> None:
    server, tenant, wire = rig.server, rig.tenant, rig.http
    valid = valid_call(server, tenant, vendor, endpoint_id)
    build, refused = ODD_MULTIPART[case]
    kind, body = build((valid.headers["Content-Type"], valid.body))
    started = time.monotonic()
    response = send(wire, server, valid.with_body(body, kind))
    assert time.monotonic() - started < 5.0
    rows = error_rows(vendor, response)
    assert rows is not None or not refused, response.text[:300]
    follow_up(server, tenant, wire, vendor, response)
