"""Pillow drawings of the sample images' content: a studio model, garments worn and laid flat,
rooms and crowds. Every drawing takes its randomness from the generator it is given, so the same
seed draws the same picture."""

from __future__ import annotations

import random
from collections.abc import Iterable

from PIL import Image, ImageChops, ImageDraw

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

#: Region of the model's torso in person.png, as fractions of width/height.
TORSO: Box = (0.34, 0.205, 0.66, 0.53)
#: Where a worn upper garment (with sleeves) is drawn on the model.
WORN_TOP: Box = (0.255, 0.195, 0.745, 0.54)


def seeded(name: str) -> random.Random:
    """A generator seeded from the asset name (stable across runs)."""
    return random.Random(f"tryon-mock:{name}")


def _map(box: Box, points: Iterable[Point]) -> list[Point]:
    """Map unit-square points into ``box``."""
    x0, y0, x1, y1 = box
    return [(x0 + u * (x1 - x0), y0 + v * (y1 - y0)) for u, v in points]


def sub_box(box: Box, part: Box) -> Box:
    """The part of ``box`` given in unit coordinates."""
    (ax, ay), (bx, by) = _map(box, [part[:2], part[2:]])
    return (ax, ay, bx, by)


def frame(size: tuple[int, int]) -> Box:
    """The whole image as a box."""
    return (0.0, 0.0, float(size[0]), float(size[1]))


def noise(rng: random.Random, size: tuple[int, int], amp: int, grain: int = 1) -> Image.Image:
    """Mode L noise in 0..2*amp; ``grain`` > 1 gives a smoother texture."""
    w, h = max(1, size[0] // grain), max(1, size[1] // grain)
    noise = Image.frombytes("L", (w, h), rng.randbytes(w * h))
    noise = noise.point(lambda v: v * (2 * amp) // 255)
    if (w, h) != size:
        noise = noise.resize(size, Image.Resampling.BILINEAR)
    return noise


def grain(im: Image.Image, noise: Image.Image, amp: int) -> Image.Image:
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
    return grain(base, noise(rng, size, 4, grain=16), 4)


# --- figures and garments ---------------------------------------------------


def draw_person(draw: ImageDraw.ImageDraw, box: Box, shirt: Colour = SHIRT) -> None:
    """A standing person filling ``box`` (best with a 3:4 box)."""
    for part in ((0.272, 0.22, 0.338, 0.50), (0.662, 0.22, 0.728, 0.50)):
        draw.rounded_rectangle(sub_box(box, part), radius=8, fill=SKIN)  # arms
    draw.ellipse(sub_box(box, (0.268, 0.485, 0.342, 0.545)), fill=SKIN)  # hands
    draw.ellipse(sub_box(box, (0.658, 0.485, 0.732, 0.545)), fill=SKIN)
    draw.rectangle(sub_box(box, (0.468, 0.16, 0.532, 0.215)), fill=SKIN)  # neck
    for part in ((0.365, 0.50, 0.497, 0.925), (0.503, 0.50, 0.635, 0.925)):
        draw.rectangle(sub_box(box, part), fill=TROUSERS)  # legs
    draw.ellipse(sub_box(box, (0.345, 0.905, 0.50, 0.955)), fill=SHOES)
    draw.ellipse(sub_box(box, (0.50, 0.905, 0.655, 0.955)), fill=SHOES)
    draw.rounded_rectangle(sub_box(box, TORSO), radius=12, fill=shirt)
    draw.rectangle(sub_box(box, (0.27, 0.215, 0.34, 0.32)), fill=shirt)  # sleeves
    draw.rectangle(sub_box(box, (0.66, 0.215, 0.73, 0.32)), fill=shirt)
    draw.ellipse(sub_box(box, (0.40, 0.04, 0.60, 0.15)), fill=HAIR)
    draw.ellipse(sub_box(box, (0.415, 0.06, 0.585, 0.185)), fill=SKIN)  # face
    for part in ((0.46, 0.11, 0.475, 0.12), (0.525, 0.11, 0.54, 0.12)):
        draw.ellipse(sub_box(box, part), fill=HAIR)  # eyes
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
    fabric = grain(Image.new("RGB", canvas.size, colour), noise(rng, canvas.size, 6), 6)
    canvas.paste(fabric, mask=garment_mask(canvas.size, kind, box))
    draw = ImageDraw.Draw(canvas)
    seam = tuple(max(0, c - 40) for c in colour)
    draw.line(_map(box, _SHAPES[kind]) + _map(box, _SHAPES[kind][:1]), fill=seam, width=2)


# --- scenes -----------------------------------------------------------------


def person_scene(size: tuple[int, int], rng: random.Random, shirt: Colour = SHIRT) -> Image.Image:
    """One person on a studio backdrop."""
    im = _studio(size, rng)
    draw_person(ImageDraw.Draw(im), frame(size), shirt)
    return im


def coarse_scene(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """The person wearing the sample top (a first-stage try-on result)."""
    im = person_scene(size, rng, shirt=TOP_COLOUR)
    paint_garment(im, "upper", sub_box(frame(size), WORN_TOP), TOP_COLOUR, rng)
    return im


def flat_lay(size: tuple[int, int], kind: str, colour: Colour, rng: random.Random) -> Image.Image:
    """A garment laid flat on white."""
    boxes = {
        "upper": (0.1, 0.14, 0.9, 0.74),
        "lower": (0.2, 0.07, 0.8, 0.93),
        "dress": (0.18, 0.06, 0.82, 0.94),
    }
    im = Image.new("RGB", size, WHITE)
    paint_garment(im, kind, sub_box(frame(size), boxes[kind]), colour, rng)
    return im


def room(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """An empty room: wall, floor, window and a plant."""
    im = _gradient(size, (228, 222, 210), (200, 192, 178))
    draw = ImageDraw.Draw(im)
    box = frame(size)
    draw.rectangle(sub_box(box, (0.0, 0.68, 1.0, 1.0)), fill=(150, 112, 78))
    for i in range(1, 6):
        draw.line(_map(box, [(0.0, 0.68 + i * 0.055), (1.0, 0.68 + i * 0.055)]), fill=(120, 88, 60), width=2)
    draw.rectangle(sub_box(box, (0.12, 0.15, 0.48, 0.5)), fill=(250, 250, 248))
    draw.rectangle(sub_box(box, (0.14, 0.17, 0.46, 0.48)), fill=(170, 205, 235))
    draw.line(_map(box, [(0.30, 0.17), (0.30, 0.48)]), fill=(250, 250, 248), width=6)
    draw.polygon(_map(box, [(0.7, 0.6), (0.82, 0.6), (0.8, 0.7), (0.72, 0.7)]), fill=(170, 90, 60))
    draw.ellipse(sub_box(box, (0.66, 0.42, 0.86, 0.62)), fill=(70, 130, 70))
    return grain(im, noise(rng, size, 4, grain=8), 4)


def crowd(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """Two people side by side."""
    w, h = size
    im = _studio(size, rng)
    draw = ImageDraw.Draw(im)
    box_w = h * 0.75
    for centre, shirt in ((0.27, SHIRT), (0.73, (150, 60, 60))):
        x0 = centre * w - box_w / 2
        draw_person(draw, (x0, 0.0, x0 + box_w, float(h)), shirt)
    return im


def panorama(size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A very wide photo with one person in the middle."""
    w, h = size
    im = _studio(size, rng)
    box_w = h * 0.75
    draw_person(ImageDraw.Draw(im), ((w - box_w) / 2, 0.0, (w + box_w) / 2, float(h)))
    return im
