"""The kinds of value a setting, a timing field or an admin API field takes, and the one sentence
that names the field, what it takes and what it got, when a value is not of its kind.

A value is shown as JSON (``"fast"``, ``true``, ``null``), as the user wrote it in a file, a
variable or a request; never as a Python repr. Text from a variable, a flag or a query string
is parsed by the ``parse`` functions, which answer the same sentence.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any


class KindError(ValueError):
    """A value that is not of its field's kind; its message names the field and the kind."""

    def __init__(self, name: str, expected: str, value: Any) -> None:
        super().__init__(f"{name} must be {expected}, not {shown(value)}")
        self.name, self.expected, self.value = name, expected, value

    def renamed(self, name: str) -> KindError:
        """The same error for the field as the user spelt it (a variable, a flag, a file's key)."""
        return KindError(name, self.expected, self.value)


def shown(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = json.dumps(str(value), ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def unknown(what: str, names: Iterable[str], known: Iterable[str]) -> str:
    """``unknown setting colour: the settings are a, b, c``: the names given, and the valid ones."""
    return f"unknown {what} {', '.join(sorted(names))}: the {what}s are {', '.join(sorted(known))}"


def one_of(choices: Iterable[str]) -> str:
    """``one of a, b, c``, the words a user types."""
    return "one of " + ", ".join(choices)


def _range(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f" from {low:g} to {high:g}"
    if low is not None:
        return f" >= {low:g}"
    return f" <= {high:g}" if high is not None else ""


def whole(name: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    expected = "a whole number" + _range(low, high)
    if not isinstance(value, int) or isinstance(value, bool):
        raise KindError(name, expected, value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise KindError(name, expected, value)
    return value


def number(name: str, value: Any, low: float | None = None, high: float | None = None) -> float:
    expected = "a number" + _range(low, high)
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise KindError(name, expected, value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise KindError(name, expected, value)
    return float(value)


def text(name: str, value: Any, choices: Iterable[str] | None = None) -> str:
    listed = tuple(choices) if choices is not None else None
    expected = one_of(listed) if listed is not None else "a string"
    if not isinstance(value, str) or (listed is not None and value not in listed):
        raise KindError(name, expected, value)
    return value


def flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise KindError(name, "true or false", value)
    return value


def texts(name: str, value: Any) -> tuple[str, ...]:
    """A list of strings (a tuple as given in Python)."""
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise KindError(name, "a list of strings", value)
    return tuple(value)


def parse_whole(name: str, raw: str, low: int | None = None, high: int | None = None) -> int:
    """A whole number written as text (a variable, a query parameter)."""
    try:
        value = int(raw.strip(), 10)
    except ValueError:
        raise KindError(name, "a whole number" + _range(low, high), raw) from None
    return whole(name, value, low, high)


def parse_number(name: str, raw: str, low: float | None = None, high: float | None = None) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise KindError(name, "a number" + _range(low, high), raw) from None
    return number(name, value, low, high)


def parse_flag(name: str, raw: str) -> bool:
    words = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False}
    words["off"] = False
    found = words.get(raw.strip().lower())
    if found is None:
        raise KindError(name, "true or false (1/0, yes/no, on/off)", raw)
    return found
