"""Catalogue of generated sample images (valid inputs and deliberate failures).

Every image is drawn with Pillow primitives from a fixed seed, so the bytes
are identical on every run for a given Pillow version. Images are built on
first use and cached.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from PIL import Image, ImageDraw, ImageFilter

from mock_server import images
from mock_server.scenes import (
    BOTTOM_COLOUR,
    DRESS_COLOUR,
    TOP_COLOUR,
    TORSO,
    Colour,
    coarse_scene,
    crowd,
    flat_lay,
    frame,
    grain,
    noise,
    panorama,
    person_scene,
    room,
    seeded,
    sub_box,
)

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Asset:
    """One catalogue entry; ``trips`` is the check kind it fails on purpose; ``role`` is the image
    role (as contracts name them) it is a valid input for, if any."""

    name: str
    media_type: str
    description: str
    width: int
    height: int
    trips: str | None
    role: str | None = None


# --- encoders ---------------------------------------------------------------


def _png(
    im: Image.Image,
    persons: int | None = None,
    garments: Sequence[str] | None = None,
    level: int = 1,
) -> bytes:
    """Encode as PNG with our metadata (fast compression keeps builds quick)."""
    buf = io.BytesIO()
    im.save(buf, "PNG", pnginfo=images.png_info(persons, garments), compress_level=level)
    return buf.getvalue()


def _with_comment(im: Image.Image, fmt: str, **options: object) -> bytes:
    """Encode as JPEG/GIF with the person metadata as a comment."""
    buf = io.BytesIO()
    im.save(buf, fmt, comment=images.comment(1, ("upper", "lower")), **options)
    return buf.getvalue()


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    """One PNG chunk with a correct CRC."""
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


# --- builders ---------------------------------------------------------------


def _size(asset: Asset) -> tuple[int, int]:
    return (asset.width, asset.height)


def _build_person(a: Asset) -> bytes:
    return _png(person_scene(_size(a), seeded(a.name)), 1, ("upper", "lower"))


def _build_person_jpeg(a: Asset) -> bytes:
    im = person_scene(_size(a), seeded("person.png"))
    return _with_comment(im, "JPEG", quality=90)


def _build_small_person(a: Asset) -> bytes:
    return _png(person_scene(_size(a), seeded(a.name)), 1, ("upper", "lower"))


def _garment_builder(kind: str, colour: Colour) -> Callable[[Asset], bytes]:
    def build(a: Asset) -> bytes:
        return _png(flat_lay(_size(a), kind, colour, seeded(a.name)), 0, (kind,))

    return build


def _build_coarse(a: Asset) -> bytes:
    # Same seed as person.png: only the garment differs from the model photo.
    return _png(coarse_scene(_size(a), seeded("person.png")), 1, ("upper", "lower"))


def _build_mask(a: Asset) -> bytes:
    mask = Image.new("L", _size(a), 0)
    ImageDraw.Draw(mask).rectangle(sub_box(frame(_size(a)), TORSO), fill=255)
    return _png(mask, level=0)  # stored: keeps a plain mask above 5 KiB


def _build_soft_mask(a: Asset) -> bytes:
    mask = Image.new("L", _size(a), 0)
    ImageDraw.Draw(mask).rectangle(sub_box(frame(_size(a)), TORSO), fill=255)
    return _png(mask.filter(ImageFilter.GaussianBlur(6)), level=0)


def _build_no_person(a: Asset) -> bytes:
    return _png(room(_size(a), seeded(a.name)), 0)


def _build_two_persons(a: Asset) -> bytes:
    return _png(crowd(_size(a), seeded(a.name)), 2, ("upper", "lower"))


def _build_too_small(a: Asset) -> bytes:
    rng = seeded(a.name)
    im = grain(person_scene(_size(a), rng), noise(rng, _size(a), 8), 8)
    return _png(im, 1, ("upper", "lower"))


def _build_too_large(a: Asset) -> bytes:
    return _png(panorama(_size(a), seeded(a.name)), 1, ("upper", "lower"))


def _build_too_heavy(a: Asset) -> bytes:
    # Encoded by hand (no filtering, stored deflate blocks): noise would not compress anyway,
    # and Pillow's encoder would spend its time trying.
    w, h = _size(a)
    noise = seeded(a.name).randbytes(w * h * 3)
    rows = b"".join(b"\x00" + noise[y * w * 3 : (y + 1) * w * 3] for y in range(h))
    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        _PNG_SIGNATURE
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows, 0))
        + _png_chunk(b"IEND", b"")
    )


def _build_too_light(a: Asset) -> bytes:
    return _png(Image.new("RGB", _size(a), (214, 208, 200)))


def _build_gif(a: Asset) -> bytes:
    im = person_scene(_size(a), seeded(a.name)).quantize(colors=64)
    return _with_comment(im, "GIF")


def _build_undecodable(a: Asset) -> bytes:
    header = struct.pack(">IIBBBBB", 768, 1024, 8, 2, 0, 0, 0)
    # 0xFF 0xFF is not a valid zlib header, so decoding must fail.
    garbage = b"\xff\xff" + seeded(a.name).randbytes(2046)
    return _PNG_SIGNATURE + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", garbage)


_PNG, _JPEG, _GIF = "image/png", "image/jpeg", "image/gif"
_CATALOGUE: tuple[tuple[Asset, Callable[[Asset], bytes]], ...] = (
    (
        Asset("person.png", _PNG, "One person standing in a studio, full body.", 768, 1024, None, "person"),
        _build_person,
    ),
    (
        Asset("person.jpg", _JPEG, "The same studio model photo as a JPEG.", 768, 1024, None, "person"),
        _build_person_jpeg,
    ),
    (
        Asset("person-small.png", _PNG, "A smaller, still valid model photo.", 400, 533, None, "person"),
        _build_small_person,
    ),
    (
        Asset("top.png", _PNG, "A T-shirt laid flat on white.", 600, 800, None, "garment"),
        _garment_builder("upper", TOP_COLOUR),
    ),
    (
        Asset("bottom.png", _PNG, "A pair of trousers laid flat on white.", 600, 800, None, "garment"),
        _garment_builder("lower", BOTTOM_COLOUR),
    ),
    (
        Asset("dress.png", _PNG, "A dress laid flat on white.", 600, 800, None, "garment"),
        _garment_builder("dress", DRESS_COLOUR),
    ),
    (
        Asset(
            "coarse.png",
            _PNG,
            "A coarse try-on result: the model wearing the top.",
            768,
            1024,
            None,
            "coarse",
        ),
        _build_coarse,
    ),
    (
        Asset(
            "coarse-mismatch.png", _PNG, "A coarse result whose size differs from the model.", 640, 960, None
        ),
        _build_coarse,
    ),
    (
        Asset("mask.png", _PNG, "A black and white mask of the model's torso.", 768, 1024, None, "mask"),
        _build_mask,
    ),
    (
        Asset(
            "mask-soft.png",
            _PNG,
            "A torso mask with blurred, grey edges: not 0/255 only.",
            768,
            1024,
            images.NOT_BINARY,
        ),
        _build_soft_mask,
    ),
    (
        Asset("no-person.png", _PNG, "An empty room with nobody in it.", 768, 1024, images.NO_PERSON),
        _build_no_person,
    ),
    (
        Asset("two-persons.png", _PNG, "Two people standing side by side.", 1024, 1024, images.MULTI_PERSON),
        _build_two_persons,
    ),
    (
        Asset(
            "too-small.png", _PNG, "A model photo far below the minimum side length.", 120, 160, images.SMALL
        ),
        _build_too_small,
    ),
    (
        Asset(
            "too-large.png", _PNG, "A panorama whose long side exceeds 4096 pixels.", 4200, 600, images.SIDE
        ),
        _build_too_large,
    ),
    (
        Asset("too-heavy.png", _PNG, "Random noise whose PNG file is over 5 MiB.", 1400, 1400, images.BYTES),
        _build_too_heavy,
    ),
    (
        Asset(
            "too-light.png", _PNG, "A flat colour image whose file is under 5 KiB.", 400, 400, images.LIGHT
        ),
        _build_too_light,
    ),
    (Asset("wrong-format.gif", _GIF, "A model photo saved as a GIF.", 600, 800, images.FORMAT), _build_gif),
    (
        Asset("undecodable.png", _PNG, "A PNG header followed by corrupt data.", 0, 0, images.UNDECODABLE),
        _build_undecodable,
    ),
)

ASSETS: Mapping[str, Asset] = MappingProxyType({a.name: a for a, _ in _CATALOGUE})
_BUILDERS: dict[str, Callable[[Asset], bytes]] = {a.name: b for a, b in _CATALOGUE}


def build_asset(name: str) -> bytes:
    """Generate an asset's bytes afresh (uncached); KeyError if unknown."""
    return _BUILDERS[name](ASSETS[name])


@cache
def asset_bytes(name: str) -> bytes:
    """The asset's bytes, generated once; KeyError if unknown."""
    return build_asset(name)
