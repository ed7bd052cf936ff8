"""A vendor error raised by the engine or a vendor module, answered in the vendor's envelope."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.model import ErrorCode


@dataclass(frozen=True)
class Violation:
    """Where a request broke its schema: the JSON Schema keyword and the JSON pointer (with the
    missing property appended for ``required``). Vendors that name the field in their message
    read it from here."""

    keyword: str
    pointer: str


class VendorError(Exception):
    """Answer this request with a documented vendor error. ``detail`` fills the vendor's message
    where it has room for one (by default the row's own ``detail``); ``violation`` says which part
    of the request was wrong."""

    def __init__(self, error: ErrorCode, detail: str = "", violation: Violation | None = None) -> None:
        super().__init__(error.id)
        self.error = error
        self.detail = detail or error.detail
        self.violation = violation
