"""A bounded ``multipart/form-data`` reader: fields and files from a body already in memory.

Every limit is checked while parsing (number of parts, size of a text field, size of a file,
header size), so a hostile body costs at most what the limits allow. Problems are reported as
one of a few kinds, which vendor modules map to their own errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

NOT_MULTIPART, MALFORMED, TOO_MANY_PARTS, FIELD_TOO_LARGE, FILE_TOO_LARGE = (
    "not_multipart",
    "malformed",
    "too_many_parts",
    "field_too_large",
    "file_too_large",
)


class MultipartError(ValueError):
    def __init__(self, kind: str, name: str = "") -> None:
        super().__init__(f"{kind} {name}".strip())
        self.kind = kind
        self.name = name


@dataclass(frozen=True)
class FilePart:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Form:
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, FilePart] = field(default_factory=dict)


@dataclass(frozen=True)
class Limits:
    parts: int = 16
    field_bytes: int = 64 * 1024
    file_bytes: int = 32 * 1024 * 1024


def boundary(content_type: str) -> bytes:
    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data" or not params.get(b"boundary"):
        raise MultipartError(NOT_MULTIPART)
    return params[b"boundary"]


def parse(content_type: str, body: bytes, limits: Limits | None = None) -> Form:
    """The fields and files of a multipart body. The first value of a repeated name is kept."""
    limits = limits or Limits()
    state = _Reader(limits)
    parser = MultipartParser(boundary(content_type), state.callbacks())
    try:
        parser.write(body)
        parser.finalize()
    except MultipartParseError as exc:
        raise MultipartError(MALFORMED) from exc
    if not state.ended:
        raise MultipartError(MALFORMED)
    return state.form


class _Reader:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.form = Form()
        self.ended = False
        self.parts = 0
        self._headers: dict[bytes, bytes] = {}
        self._name = b""
        self._value = b""
        self._chunks: list[bytes] = []
        self._size = 0

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_part_data": self._data,
            "on_part_end": self._end,
            "on_end": self._finish,
        }

    def _begin(self) -> None:
        self.parts += 1
        if self.parts > self.limits.parts:
            raise MultipartError(TOO_MANY_PARTS)
        self._headers, self._chunks, self._size = {}, [], 0

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._name.lower()] = self._value
        self._name, self._value = b"", b""

    def _disposition(self) -> tuple[str, str | None]:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = params.get(b"name", b"").decode("utf-8", "replace")
        filename = params.get(b"filename")
        return name, filename.decode("utf-8", "replace") if filename is not None else None

    def _data(self, data: bytes, start: int, end: int) -> None:
        name, filename = self._disposition()
        self._size += end - start
        if filename is None and self._size > self.limits.field_bytes:
            raise MultipartError(FIELD_TOO_LARGE, name)
        if filename is not None and self._size > self.limits.file_bytes:
            raise MultipartError(FILE_TOO_LARGE, name)
        self._chunks.append(data[start:end])

    def _end(self) -> None:
        name, filename = self._disposition()
        if not name:
            raise MultipartError(MALFORMED)
        data = b"".join(self._chunks)
        if filename is None:
            self.form.fields.setdefault(name, data.decode("utf-8", "replace"))
        else:
            kind = self._headers.get(b"content-type", b"application/octet-stream").decode("latin-1")
            self.form.files.setdefault(name, FilePart(filename, kind, data))

    def _finish(self) -> None:
        self.ended = True
