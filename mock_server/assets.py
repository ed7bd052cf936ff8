"""Catalogue of generated sample images (valid inputs and deliberate failures).

Every image is drawn with Pillow primitives from a fixed seed, so the bytes
are identical on every run for a given Pillow version. Images are built on
first use and cached.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from PIL import Image, ImageChops, ImageDraw, ImageFilter

from mock_server import images

Box = tuple[float, float, float, float]
Colour = tuple[int, int, int]
Point = tuple[float, float]

SKIN: Colour = (224, 182, 150)
HAIR: Colour = (62, 42, 30)
SHIRT: Colour = (92, 108, 128)
TROUSERS: Colour = (58, 58, 68)
SHOES: Colour = (32, 30, 30)
TOP_COLOUR: Colour = (186, 84, 58)
BOTTOM_COLOUR: Colour = (44, 72, 118)
DRESS_COLOUR: Colour = (132, 58, 118)
WHITE: Colour = (255, 255, 255)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: Region of the model's torso in person.png, as fractions of width/height.
TORSO: Box = (0.34, 0.205, 0.66, 0.53)
#: Where a worn upper garment (with sleeves) is drawn on the model.
WORN_TOP: Box = (0.255, 0.195, 0.745, 0.54)


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


# --- drawing helpers --------------------------------------------------------


def _rng(name: str) -> random.Random:
    """A generator seeded from the asset name (stable across runs)."""
    return random.Random(f"tryon-mock:{name}")


def _map(box: Box, points: Iterable[Point]) -> list[Point]:
    """Map unit-square points into ``box``."""
    x0, y0, x1, y1 = box
    return [(x0 + u * (x1 - x0), y0 + v * (y1 - y0)) for u, v in points]


def _sub(box: Box, part: Box) -> Box:
    """The part of ``box`` given in unit coordinates."""
    (ax, ay), (bx, by) = _map(box, [part[:2], part[2:]])
    return (ax, ay, bx, by)


def _frame(size: tuple[int, int]) -> Box:
    """The whole image as a box."""
    return (0.0, 0.0, float(size[0]), float(size[1]))


def _noise(rng: random.Random, size: tuple[int, int], amp: int, grain: int = 1) -> Image.Image:
    """Mode L noise in 0..2*amp; ``grain`` > 1 gives a smoother texture."""
    w, h = max(1, size[0] // grain), max(1, size[1] // grain)
    noise = Image.frombytes("L", (w, h), rng.randbytes(w * h))
    noise = noise.point(lambda v: v * (2 * amp) // 255)
    if (w, h) != size:
        noise = noise.resize(size, Image.Resampling.BILINEAR)
    return noise


def _grain(im: Image.Image, noise: Image.Image, amp: int) -> Image.Image:
    """Add signed grey noise (centred on 0) to an RGB image."""
    return ImageChops.add(im, Image.merge("RGB", (noise, noise, noise)), 1.0, -amp)


def _gradient(size: tuple[int, int], top: Colour, bottom: Colour) -> Image.Image:
    """Vertical RGB gradient."""
    ramp = Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR)
    channels = [
        ramp.point(lambda v, a=a, b=b: a + (b - a) * v // 255) for a, b in zip(top, bottom, strict=True)
    ]
    return Image.merge("RGB", channels)


def _studio(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """Light studio backdrop: a soft gradient with a cloudy texture."""
    base = _gradient(size, (236, 234, 228), (206, 202, 194))
    return _grain(base, _noise(rng, size, 4, grain=16), 4)


# --- figures and garments ---------------------------------------------------


def draw_person(draw: ImageDraw.ImageDraw, box: Box, shirt: Colour = SHIRT) -> None:
    """A standing person filling ``box`` (best with a 3:4 box)."""
    for part in ((0.272, 0.22, 0.338, 0.50), (0.662, 0.22, 0.728, 0.50)):
        draw.rounded_rectangle(_sub(box, part), radius=8, fill=SKIN)  # arms
    draw.ellipse(_sub(box, (0.268, 0.485, 0.342, 0.545)), fill=SKIN)  # hands
    draw.ellipse(_sub(box, (0.658, 0.485, 0.732, 0.545)), fill=SKIN)
    draw.rectangle(_sub(box, (0.468, 0.16, 0.532, 0.215)), fill=SKIN)  # neck
    for part in ((0.365, 0.50, 0.497, 0.925), (0.503, 0.50, 0.635, 0.925)):
        draw.rectangle(_sub(box, part), fill=TROUSERS)  # legs
    draw.ellipse(_sub(box, (0.345, 0.905, 0.50, 0.955)), fill=SHOES)
    draw.ellipse(_sub(box, (0.50, 0.905, 0.655, 0.955)), fill=SHOES)
    draw.rounded_rectangle(_sub(box, TORSO), radius=12, fill=shirt)
    draw.rectangle(_sub(box, (0.27, 0.215, 0.34, 0.32)), fill=shirt)  # sleeves
    draw.rectangle(_sub(box, (0.66, 0.215, 0.73, 0.32)), fill=shirt)
    draw.ellipse(_sub(box, (0.40, 0.04, 0.60, 0.15)), fill=HAIR)
    draw.ellipse(_sub(box, (0.415, 0.06, 0.585, 0.185)), fill=SKIN)  # face
    for part in ((0.46, 0.11, 0.475, 0.12), (0.525, 0.11, 0.54, 0.12)):
        draw.ellipse(_sub(box, part), fill=HAIR)  # eyes
    draw.line(_map(box, [(0.48, 0.155), (0.52, 0.155)]), fill=(150, 80, 80), width=2)


_SHAPES: dict[str, list[Point]] = {
    "upper": [
        (0.36, 0.0),
        (0.44, 0.07),
        (0.56, 0.07),
        (0.64, 0.0),
        (1.0, 0.2),
        (0.88, 0.4),
        (0.79, 0.32),
        (0.79, 1.0),
        (0.21, 1.0),
        (0.21, 0.32),
        (0.12, 0.4),
        (0.0, 0.2),
    ],
    "lower": [
        (0.2, 0.0),
        (0.8, 0.0),
        (0.88, 1.0),
        (0.56, 1.0),
        (0.5, 0.25),
        (0.44, 1.0),
        (0.12, 1.0),
    ],
    "dress": [
        (0.36, 0.0),
        (0.41, 0.0),
        (0.42, 0.1),
        (0.58, 0.1),
        (0.59, 0.0),
        (0.64, 0.0),
        (0.66, 0.12),
        (0.62, 0.38),
        (0.92, 1.0),
        (0.08, 1.0),
        (0.38, 0.38),
        (0.34, 0.12),
    ],
}


def garment_mask(size: tuple[int, int], kind: str, box: Box) -> Image.Image:
    """Mode L mask (0/255) of a garment outline placed in ``box``."""
    mask = Image.new("L", size, 0)
    ImageDraw.Draw(mask).polygon(_map(box, _SHAPES[kind]), fill=255)
    return mask


def paint_garment(canvas: Image.Image, kind: str, box: Box, colour: Colour, rng: random.Random) -> None:
    """Paint a textured garment of ``kind`` into ``box`` of an RGB canvas."""
    fabric = _grain(Image.new("RGB", canvas.size, colour), _noise(rng, canvas.size, 6), 6)
    canvas.paste(fabric, mask=garment_mask(canvas.size, kind, box))
    draw = ImageDraw.Draw(canvas)
    seam = tuple(max(0, c - 40) for c in colour)
    draw.line(_map(box, _SHAPES[kind]) + _map(box, _SHAPES[kind][:1]), fill=seam, width=2)


# --- scenes -----------------------------------------------------------------


def _person_scene(size: tuple[int, int], rng: random.Random, shirt: Colour = SHIRT) -> Image.Image:
    """One person on a studio backdrop."""
    im = _studio(size, rng)
    draw_person(ImageDraw.Draw(im), _frame(size), shirt)
    return im


def _coarse_scene(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """The person wearing the sample top (a first-stage try-on result)."""
    im = _person_scene(size, rng, shirt=TOP_COLOUR)
    paint_garment(im, "upper", _sub(_frame(size), WORN_TOP), TOP_COLOUR, rng)
    return im


def _flat_lay(size: tuple[int, int], kind: str, colour: Colour, rng: random.Random) -> Image.Image:
    """A garment laid flat on white."""
    boxes = {
        "upper": (0.1, 0.14, 0.9, 0.74),
        "lower": (0.2, 0.07, 0.8, 0.93),
        "dress": (0.18, 0.06, 0.82, 0.94),
    }
    im = Image.new("RGB", size, WHITE)
    paint_garment(im, kind, _sub(_frame(size), boxes[kind]), colour, rng)
    return im


def _room(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """An empty room: wall, floor, window and a plant."""
    im = _gradient(size, (228, 222, 210), (200, 192, 178))
    draw = ImageDraw.Draw(im)
    frame = _frame(size)
    draw.rectangle(_sub(frame, (0.0, 0.68, 1.0, 1.0)), fill=(150, 112, 78))
    for i in range(1, 6):
        draw.line(
            _map(frame, [(0.0, 0.68 + i * 0.055), (1.0, 0.68 + i * 0.055)]), fill=(120, 88, 60), width=2
        )
    draw.rectangle(_sub(frame, (0.12, 0.15, 0.48, 0.5)), fill=(250, 250, 248))
    draw.rectangle(_sub(frame, (0.14, 0.17, 0.46, 0.48)), fill=(170, 205, 235))
    draw.line(_map(frame, [(0.30, 0.17), (0.30, 0.48)]), fill=(250, 250, 248), width=6)
    draw.polygon(_map(frame, [(0.7, 0.6), (0.82, 0.6), (0.8, 0.7), (0.72, 0.7)]), fill=(170, 90, 60))
    draw.ellipse(_sub(frame, (0.66, 0.42, 0.86, 0.62)), fill=(70, 130, 70))
    return _grain(im, _noise(rng, size, 4, grain=8), 4)


def _crowd(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """Two people side by side."""
    w, h = size
    im = _studio(size, rng)
    draw = ImageDraw.Draw(im)
    box_w = h * 0.75
    for centre, shirt in ((0.27, SHIRT), (0.73, (150, 60, 60))):
        x0 = centre * w - box_w / 2
        draw_person(draw, (x0, 0.0, x0 + box_w, float(h)), shirt)
    return im


def _panorama(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A very wide photo with one person in the middle."""
    w, h = size
    im = _studio(size, rng)
    box_w = h * 0.75
    draw_person(ImageDraw.Draw(im), ((w - box_w) / 2, 0.0, (w + box_w) / 2, float(h)))
    return im


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
    return _png(_person_scene(_size(a), _rng(a.name)), 1, ("upper", "lower"))


def _build_person_jpeg(a: Asset) -> bytes:
    im = _person_scene(_size(a), _rng("person.png"))
    return _with_comment(im, "JPEG", quality=90)


def _build_small_person(a: Asset) -> bytes:
    return _png(_person_scene(_size(a), _rng(a.name)), 1, ("upper", "lower"))


def _garment_builder(kind: str, colour: Colour) -> Callable[[Asset], bytes]:
    def build(a: Asset) -> bytes:
        return _png(_flat_lay(_size(a), kind, colour, _rng(a.name)), 0, (kind,))

    return build


def _build_coarse(a: Asset) -> bytes:
    # Same seed as person.png: only the garment differs from the model photo.
    return _png(_coarse_scene(_size(a), _rng("person.png")), 1, ("upper", "lower"))


def _build_mask(a: Asset) -> bytes:
    mask = Image.new("L", _size(a), 0)
    ImageDraw.Draw(mask).rectangle(_sub(_frame(_size(a)), TORSO), fill=255)
    return _png(mask, level=0)  # stored: keeps a plain mask above 5 KiB


def _build_soft_mask(a: Asset) -> bytes:
    mask = Image.new("L", _size(a), 0)
    ImageDraw.Draw(mask).rectangle(_sub(_frame(_size(a)), TORSO), fill=255)
    return _png(mask.filter(ImageFilter.GaussianBlur(6)), level=0)


def _build_no_person(a: Asset) -> bytes:
    return _png(_room(_size(a), _rng(a.name)), 0)


def _build_two_persons(a: Asset) -> bytes:
    return _png(_crowd(_size(a), _rng(a.name)), 2, ("upper", "lower"))


def _build_too_small(a: Asset) -> bytes:
    rng = _rng(a.name)
    im = _grain(_person_scene(_size(a), rng), _noise(rng, _size(a), 8), 8)
    return _png(im, 1, ("upper", "lower"))


def _build_too_large(a: Asset) -> bytes:
    return _png(_panorama(_size(a), _rng(a.name)), 1, ("upper", "lower"))


def _build_too_heavy(a: Asset) -> bytes:
    # Encoded by hand (no filtering, stored deflate blocks): noise would not
    # compress anyway, and this is several times faster than Pillow's encoder.
    w, h = _size(a)
    noise = _rng(a.name).randbytes(w * h * 3)
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
    im = _person_scene(_size(a), _rng(a.name)).quantize(colors=64)
    return _with_comment(im, "GIF")


def _build_undecodable(a: Asset) -> bytes:
    header = struct.pack(">IIBBBBB", 768, 1024, 8, 2, 0, 0, 0)
    # 0xFF 0xFF is not a valid zlib header, so decoding must fail.
    garbage = b"\xff\xff" + _rng(a.name).randbytes(2046)
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
            "too-light.png", _PNG, "A flat colour image whose file is under 5 KiB.", 400, 400, images.BYTES
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
