"""Decode input images safely and check them against a contract's limits.

The mock's own sample and result images carry small metadata records saying
how many people they show and which garments they contain:

* PNG: text chunks ``tryon-mock:persons`` (e.g. ``"1"``) and
  ``tryon-mock:garments`` (e.g. ``"upper,lower"``);
* JPEG/GIF: a comment ``tryon-mock:persons=1;tryon-mock:garments=upper``.

Images without the metadata (real photos) are assumed to be fine.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from PIL import Image, PngImagePlugin

PERSONS_KEY = "tryon-mock:persons"
GARMENTS_KEY = "tryon-mock:garments"
GARMENT_KINDS = ("upper", "lower", "dress")

UNDECODABLE = "undecodable"
FORMAT = "format"
BYTES = "bytes"  # the file is over the maximum
SIDE = "side"  # the larger side is over the maximum
SMALL = "small"  # the smaller side is under the minimum
LIGHT = "light"  # the file is under the minimum (checked after the sides: vendors may check it later)
NO_PERSON = "no_person"
MULTI_PERSON = "multi_person"
NOT_BINARY = "not_binary"
CHECK_KINDS = (UNDECODABLE, FORMAT, BYTES, SMALL, SIDE, LIGHT, NOT_BINARY, NO_PERSON, MULTI_PERSON)

#: Images with more pixels than this are not decoded (treated as bombs).
MAX_PIXELS = 89_478_485

# Raster formats we are willing to parse; keeps e.g. EPS (Ghostscript) out.
_OPEN_FORMATS = (
    "PNG",
    "JPEG",
    "MPO",
    "BMP",
    "DIB",
    "WEBP",
    "GIF",
    "TIFF",
    "ICO",
    "PPM",
    "TGA",
    "AVIF",
)
# Pillow reports multi-picture JPEGs (phone photos) as MPO: they are JPEGs.
_FORMAT_ALIASES = {"MPO": "JPEG"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PERSONS_RE = re.compile(r"[0-9]{1,4}")


@dataclass(frozen=True)
class ImageFacts:
    """What ``inspect`` learned about an uploaded image."""

    format: str | None
    width: int
    height: int
    size_bytes: int
    persons: int | None
    garments: tuple[str, ...] | None
    binary: bool = False  # every pixel is 0 or 255 (in grey levels): a valid mask


class Limits(Protocol):
    """Read-only view of a contract's image limits (None = unbounded)."""

    @property
    def formats(self) -> frozenset[str]: ...

    @property
    def min_bytes(self) -> int | None: ...

    @property
    def max_bytes(self) -> int | None: ...

    @property
    def min_side(self) -> int | None: ...

    @property
    def max_side(self) -> int | None: ...

    @property
    def binary(self) -> bool: ...


@lru_cache(maxsize=1)
def _open_formats() -> tuple[str, ...]:
    """The allowed formats that this Pillow build can actually open."""
    Image.init()
    return tuple(name for name in _OPEN_FORMATS if name in Image.OPEN)


def open_image(data: bytes) -> Image.Image | None:
    """Open and fully load ``data``; None if it is not a decodable image."""
    try:
        im = Image.open(io.BytesIO(data), formats=_open_formats())
        if im.width * im.height > MAX_PIXELS:
            return None
        im.load()
    except Exception:  # any decoder failure means undecodable
        return None
    if im.width < 1 or im.height < 1:
        return None
    if im.format == "PNG" and not _png_complete(data):
        return None
    return im


def _png_complete(data: bytes) -> bool:
    """Every chunk is whole with a valid CRC, up to and including IEND.

    Pillow stops reading after the image data, so a PNG missing its tail
    would otherwise still load.
    """
    view = memoryview(data)
    pos = len(_PNG_SIGNATURE)
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        end = pos + 12 + length
        if end > len(data):
            return False
        (crc,) = struct.unpack_from(">I", data, end - 4)
        if zlib.crc32(view[pos + 4 : end - 4]) != crc:
            return False
        if data[pos + 4 : pos + 8] == b"IEND":
            return True
        pos = end
    return False


def inspect(data: bytes) -> ImageFacts:
    """Describe ``data``; never raises, whatever the bytes are."""
    im = open_image(data)
    if im is None or im.format is None:
        return ImageFacts(None, 0, 0, len(data), None, None)
    meta = read_metadata({str(k): v for k, v in im.info.items()})
    return ImageFacts(
        format=_FORMAT_ALIASES.get(im.format, im.format),
        width=im.width,
        height=im.height,
        size_bytes=len(data),
        persons=_parse_persons(meta.get(PERSONS_KEY)),
        garments=_parse_garments(meta.get(GARMENTS_KEY)),
        binary=_binary(im),
    )


def _binary(im: Image.Image) -> bool:
    """True when the image holds only pure black and pure white (a 0/255 mask)."""
    colours = im.convert("RGB").getcolors(maxcolors=2)
    return colours is not None and all(c in ((0, 0, 0), (255, 255, 255)) for _, c in colours)


def check(facts: ImageFacts, limits: Limits, persons: int | None = None) -> str | None:
    """Return the kind of the first failing check, or None if all pass."""
    if facts.format is None:
        return UNDECODABLE
    if facts.format.upper() not in {name.upper() for name in limits.formats}:
        return FORMAT
    sized = _size_check(facts, limits)
    if sized is not None:
        return sized
    if limits.binary and not facts.binary:
        return NOT_BINARY
    if persons is None or facts.persons is None:
        return None
    if facts.persons == 0:
        return NO_PERSON
    if facts.persons > persons:
        return MULTI_PERSON
    return None


def _size_check(facts: ImageFacts, limits: Limits) -> str | None:
    """The file's weight and the sides against their bounds (inclusive; None is unbounded): the
    ceiling on bytes first, the floor last."""
    if limits.max_bytes is not None and facts.size_bytes > limits.max_bytes:
        return BYTES
    short, long = sorted((facts.width, facts.height))
    if limits.min_side is not None and short < limits.min_side:
        return SMALL
    if limits.max_side is not None and long > limits.max_side:
        return SIDE
    if limits.min_bytes is not None and facts.size_bytes < limits.min_bytes:
        return LIGHT
    return None


# --- metadata -------------------------------------------------------------


def metadata_items(persons: int | None, garments: Iterable[str] | None) -> list[tuple[str, str]]:
    """The (key, value) pairs describing an image's content."""
    items: list[tuple[str, str]] = []
    if persons is not None:
        items.append((PERSONS_KEY, str(persons)))
    if garments is not None:
        items.append((GARMENTS_KEY, ",".join(garments)))
    return items


def png_info(persons: int | None, garments: Iterable[str] | None) -> PngImagePlugin.PngInfo:
    """PNG text chunks carrying the metadata."""
    info = PngImagePlugin.PngInfo()
    for key, value in metadata_items(persons, garments):
        info.add_text(key, value)
    return info


def comment(persons: int | None, garments: Iterable[str] | None) -> bytes:
    """JPEG/GIF comment carrying the metadata."""
    pairs = metadata_items(persons, garments)
    return ";".join(f"{key}={value}" for key, value in pairs).encode("ascii")


def read_metadata(info: Mapping[str, Any]) -> dict[str, str]:
    """Collect our keys from a Pillow ``info`` dict (text chunks or comment)."""
    meta = _parse_comment(info.get("comment"))
    for key in (PERSONS_KEY, GARMENTS_KEY):
        value = info.get(key)
        if isinstance(value, str):
            meta[key] = str(value)
    return meta


def _parse_comment(raw: object) -> dict[str, str]:
    """Parse ``key=value;key=value``; anything unreadable gives {}."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return {}
    if not isinstance(raw, str):
        return {}
    meta: dict[str, str] = {}
    for part in raw.split(";"):
        key, sep, value = part.partition("=")
        if sep and key.strip() in (PERSONS_KEY, GARMENTS_KEY):
            meta[key.strip()] = value.strip()
    return meta


def _parse_persons(value: str | None) -> int | None:
    """A small non-negative integer, else None."""
    if value is None or not _PERSONS_RE.fullmatch(value.strip()):
        return None
    return int(value.strip())


def _parse_garments(value: str | None) -> tuple[str, ...] | None:
    """Distinct known garment kinds, comma separated; else None."""
    if value is None:
        return None
    if not value.strip():
        return ()
    kinds = tuple(kind.strip() for kind in value.split(","))
    if any(kind not in GARMENT_KINDS for kind in kinds) or len(set(kinds)) != len(kinds):
        return None
    return kinds
