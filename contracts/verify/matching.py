"""How the checks compare what a client sent or reported with what was expected: a submit's
parameters with the job's, a reported error code with a row of the vendor's error table."""

from __future__ import annotations

from typing import Any

from contracts.model import ErrorCode


def missing(want: Any, got: Any, at: str) -> str | None:
    """Where ``got`` lacks or changes something of ``want`` (extra fields in got are fine)."""
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return f"{at or '/'} should be an object"
        pairs = [(f"{at}/{k}", v, got[k]) if k in got else (f"{at}/{k}", v, _ABSENT) for k, v in want.items()]
    elif isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return f"{at} should be a list of {len(want)}"
        pairs = [(f"{at}/{i}", w, g) for i, (w, g) in enumerate(zip(want, got, strict=True))]
    else:
        same = want == got and type(want) is type(got)
        return None if same else f"{at} is {got!r}, the job says {want!r}"
    for where, w, g in pairs:
        gap = f"{where} is missing" if g is _ABSENT else missing(w, g, where)
        if gap:
            return gap
    return None


_ABSENT = object()


def names_row(row: ErrorCode, code: Any) -> bool:
    """Whether a reported code names the row: its code, or for an envelope without a code in the
    body (DAMO's gateway) its message (up to the ``%s`` detail the gateway fills in)."""
    if str(code) == str(row.code):
        return True
    lead = row.message.split("%s")[0].strip()
    return bool(row.envelope and lead and str(code).strip().startswith(lead))
