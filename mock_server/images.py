"""Decode input images safely and check them against a contract's limits.

The mock's own sample and result images carry small metadata records saying
how many people they show and which garments they contain:

* PNG: text chunks ``tryon-mock:persons`` (e.g. ``"1"``) and
  ``tryon-mock:garments`` (e.g. ``"upper,lower"``);
* JPEG/GIF: a comment ``tryon-mock:persons=1;tryon-mock:garments=upper``.

Images without the metadata (real photos) are assumed to be fine.

Pixels are decoded only when the header does not already refuse the image for its size: its
format and sides are read first, and an image with a side over the limits it is checked against,
or with more than ``MAX_PIXELS`` pixels, is judged on its header alone (nothing decoded). A decode needs
about 3-4 bytes a pixel; ``image_checks`` bounds how many run at once.
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

from PIL import Image, ImageFile, PngImagePlugin

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

#: Images with more pixels than this are not decoded: they answer as too large a side. The most
#: any contract accepts is 6500 x 6500 (Aidge's pro garments); DAMO gives no largest side.
MAX_PIXELS = 6500 * 6500

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
    header_only: bool = False  # read off the header, nothing decoded (the header refused it)


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


def limit_pillow() -> None:
    """Set Pillow's own decompression-bomb limit (``Image.MAX_IMAGE_PIXELS``, 89 M pixels by
    default) to the mock's: ``Image.open`` anywhere in the process then warns of an image over
    ``MAX_PIXELS`` and refuses one over twice that. The mock's own reading does not depend on it
    (``_header``); this is for a process of the mock's own (``tryon-mock serve``); a process the
    mock only runs in (a test run through the pytest plugin) keeps its own setting."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS


def _header(data: bytes) -> ImageFile.ImageFile | None:
    """The image in ``data`` with its header read and nothing decoded, or None when no allowed
    format reads it. ``Image.open`` does the same, then refuses (or warns of) an image over
    ``Image.MAX_IMAGE_PIXELS`` without saying its sides; the mock decides that itself, by the
    sides, and answers with the vendor's size error."""
    prefix = data[:16]
    for name in _open_formats():
        factory, accept = Image.OPEN[name]
        try:
            accepted = accept(prefix) if accept is not None else True
            if not accepted or isinstance(accepted, str):  # a string: a warning, not this format
                continue
            return factory(io.BytesIO(data), "")
        except (SyntaxError, IndexError, TypeError, struct.error):  # not this format after all
            continue
        except Exception:  # a reader that fails otherwise: undecodable
            return None
    return None


def _decode(im: ImageFile.ImageFile, data: bytes) -> Image.Image | None:
    """The image loaded in full, or None when its pixels cannot be read."""
    try:
        im.load()
    except Exception:  # any decoder failure means undecodable
        return None
    if im.format == "PNG" and not _png_complete(data):
        return None
    return im


def open_image(data: bytes) -> Image.Image | None:
    """Open and fully load ``data``; None if it is not a decodable image of at most
    ``MAX_PIXELS`` pixels."""
    im = _header(data)
    if im is None or not 1 <= im.width * im.height <= MAX_PIXELS:
        return None
    return _decode(im, data)


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


def inspect(data: bytes, limits: Limits | None = None) -> ImageFacts:
    """Describe ``data``; never raises, whatever the bytes are. An image whose sides are over
    those ``limits`` allow (when given), or that has more than ``MAX_PIXELS`` pixels, is described
    by its header alone (``header_only``): that is all ``check`` needs to refuse it. (Other images
    are decoded, even those the header refuses otherwise: undecodable comes first, and a small
    image is cheap to decode.)"""
    undecodable = ImageFacts(None, 0, 0, len(data), None, None)
    im = _header(data)
    if im is None or im.format is None or im.width < 1 or im.height < 1:
        return undecodable
    fmt = _FORMAT_ALIASES.get(im.format, im.format)
    head = ImageFacts(fmt, im.width, im.height, len(data), None, None, header_only=True)
    if _too_large(head, limits):
        return head
    decoded = _decode(im, data)
    if decoded is None:
        return undecodable
    meta = read_metadata({str(k): v for k, v in decoded.info.items()})
    return ImageFacts(
        format=fmt,
        width=decoded.width,
        height=decoded.height,
        size_bytes=len(data),
        persons=_parse_persons(meta.get(PERSONS_KEY)),
        garments=_parse_garments(meta.get(GARMENTS_KEY)),
        binary=_binary(decoded),
    )


def _binary(im: Image.Image) -> bool:
    """True when the image holds only pure black and pure white (a 0/255 mask). Grey and RGB
    images are read as they are (a copy of a large image would double what its check holds)."""
    if im.mode == "1":
        return True
    if im.mode == "L":
        greys = im.getcolors(maxcolors=2)
        return greys is not None and all(c in (0, 255) for _, c in greys)
    colours = (im if im.mode == "RGB" else im.convert("RGB")).getcolors(maxcolors=2)
    return colours is not None and all(c in ((0, 0, 0), (255, 255, 255)) for _, c in colours)


def check(facts: ImageFacts, limits: Limits, persons: int | None = None) -> str | None:
    """Return the kind of the first failing check, or None if all pass."""
    if facts.format is None:
        return UNDECODABLE
    refused = header_check(facts, limits)
    if refused is not None:
        return refused
    if facts.header_only:  # never so: inspect decodes what the header does not refuse
        return UNDECODABLE
    if limits.binary and not facts.binary:
        return NOT_BINARY
    if persons is None or facts.persons is None:
        return None
    if facts.persons == 0:
        return NO_PERSON
    if facts.persons > persons:
        return MULTI_PERSON
    return None


def header_check(facts: ImageFacts, limits: Limits) -> str | None:
    """The kind of the first failing check the header alone decides (format, file size, sides,
    and more pixels than the mock decodes), or None."""
    if facts.format is None:
        return UNDECODABLE
    if facts.format.upper() not in {name.upper() for name in limits.formats}:
        return FORMAT
    sized = _size_check(facts, limits)
    if sized is not None:
        return sized
    if facts.width * facts.height > MAX_PIXELS:
        return SIDE
    return None


def judged(facts: ImageFacts, limits: Limits) -> bool:
    """Whether ``facts`` are enough to check an image against ``limits``: decoded, or read off a
    header whose sides these limits refuse (facts kept from a check against other limits may not
    be)."""
    return not facts.header_only or _too_large(facts, limits)


def _too_large(facts: ImageFacts, limits: Limits | None) -> bool:
    """More pixels than the mock decodes, or a side over what ``limits`` allow: refused from the
    header, before a decode that would hold 3-4 bytes a pixel."""
    if facts.width * facts.height > MAX_PIXELS:
        return True
    return (
        limits is not None
        and limits.max_side is not None
        and max(facts.width, facts.height) > limits.max_side
    )


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
