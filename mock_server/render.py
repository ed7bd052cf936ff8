"""Deterministic result images: try-on composites and garment parsing."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont, ImageOps

from mock_server import assets, images

Box = tuple[float, float, float, float]
FontType = ImageFont.FreeTypeFont | ImageFont.ImageFont

#: Garment regions as fractions of width/height (x1, y1, x2, y2).
REGIONS: dict[str, Box] = {
    "upper": (0.25, 0.20, 0.75, 0.55),
    "lower": (0.28, 0.50, 0.72, 0.95),
    "dress": (0.25, 0.20, 0.75, 0.90),
}
#: Largest side accepted for a requested output size.
MAX_OUTPUT_SIDE = 8192
WATERMARK = "MOCK"
_MARK_COLOUR = (215, 25, 45)
_MARK_OPACITY = 0.5
_WHITE_LEVEL = 235  # garment pixels lighter than this count as background


# --- shared helpers -----------------------------------------------------------


def _decode_rgb(data: bytes) -> Image.Image | None:
    """Decode ``data`` to RGB, or None if it is not a usable image."""
    im = images.open_image(data)
    if im is None:
        return None
    try:
        return im.convert("RGB")
    except Exception:  # unsupported mode conversions count as undecodable
        return None


def _png(im: Image.Image, persons: int | None = None, garments: Sequence[str] | None = None) -> bytes:
    """Encode as PNG with our metadata (fast compression: results are transient)."""
    buf = io.BytesIO()
    im.save(buf, "PNG", pnginfo=images.png_info(persons, garments), compress_level=1)
    return buf.getvalue()


def region_box(part: str, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Pixel bbox (x1, y1, x2, y2; x2/y2 exclusive) of a part, never empty."""
    if part not in REGIONS:
        raise ValueError(f"unknown garment part {part!r}; expected one of {sorted(REGIONS)}")
    w, h = size
    fx1, fy1, fx2, fy2 = REGIONS[part]
    x1, x2 = _span(fx1, fx2, w)
    y1, y2 = _span(fy1, fy2, h)
    return (x1, y1, x2, y2)


def _span(start: float, end: float, length: int) -> tuple[int, int]:
    """Round a fractional span to pixels, keeping at least one pixel."""
    a = min(round(start * length), length - 1)
    b = max(round(end * length), a + 1)
    return a, min(b, length)


# --- try-on -------------------------------------------------------------------


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    """Validate a requested (width, height)."""
    w, h = size
    for side in (w, h):
        if not isinstance(side, int) or not 1 <= side <= MAX_OUTPUT_SIDE:
            raise ValueError(f"invalid output size {size!r}")
    return (w, h)


def _person_base(person: bytes, size: tuple[int, int] | None) -> Image.Image:
    """The person image in RGB at the output size (sample model as fallback)."""
    im = _decode_rgb(person) or _decode_rgb(assets.asset_bytes("person.png"))
    if im is None:
        raise RuntimeError("the bundled sample person image does not decode")
    if size is None or im.size == size:
        return im
    return ImageOps.fit(im, size, Image.Resampling.LANCZOS)


def _cutout(data: bytes) -> Image.Image | None:
    """The garment as RGBA with its background transparent, cropped tight."""
    im = images.open_image(data)
    if im is None:
        return None
    try:
        rgba = im.convert("RGBA")
    except Exception:  # unsupported mode conversions count as undecodable
        return None
    alpha = rgba.getchannel("A")
    if alpha.getextrema()[0] == 255:  # opaque: treat near-white as background
        grey = rgba.convert("L")
        alpha = grey.point(lambda v: 255 if v < _WHITE_LEVEL else 0)
    bbox = alpha.getbbox()
    if bbox is None:  # nothing stands out: use the whole picture
        alpha, bbox = Image.new("L", rgba.size, 255), (0, 0, rgba.width, rgba.height)
    rgba.putalpha(alpha)
    return rgba.crop(bbox)


def _place(canvas: Image.Image, cutout: Image.Image, part: str) -> None:
    """Scale ``cutout`` into the part's region (keeping aspect) and paste it."""
    x1, y1, x2, y2 = region_box(part, canvas.size)
    scale = min((x2 - x1) / cutout.width, (y2 - y1) / cutout.height)
    w = max(1, round(cutout.width * scale))
    h = max(1, round(cutout.height * scale))
    fitted = cutout.resize((w, h), Image.Resampling.LANCZOS)
    canvas.paste(fitted, (x1 + (x2 - x1 - w) // 2, y1), fitted)


def _font(size: int) -> FontType:
    """Pillow's bundled font at ``size`` (bitmap fallback without FreeType).

    Not cached: loading is cheap, and font objects are not shared across the
    worker threads that render results.
    """
    try:
        return ImageFont.load_default(size=size)
    except (ImportError, OSError):
        return ImageFont.load_default()


@lru_cache(maxsize=1)
def _mark_mask() -> Image.Image:
    """Mode L stencil of the watermark word (never mutated by callers)."""
    font = _font(160)
    left, top, right, bottom = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox((0, 0), WATERMARK, font=font)
    pad = 12
    mask = Image.new("L", (int(right - left) + 2 * pad, int(bottom - top) + 2 * pad), 0)
    ImageDraw.Draw(mask).text((pad - left, pad - top), WATERMARK, fill=255, font=font)
    return mask


def _watermark(canvas: Image.Image) -> None:
    """Stamp a large diagonal, semi-transparent watermark across the image."""
    w, h = canvas.size
    angle = math.degrees(math.atan2(h, w))
    stencil = _mark_mask().rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    scale = min(0.9 * w / stencil.width, 0.9 * h / stencil.height)
    size = (max(1, round(stencil.width * scale)), max(1, round(stencil.height * scale)))
    stencil = stencil.resize(size, Image.Resampling.BILINEAR)
    stencil = stencil.point(lambda v: round(v * _MARK_OPACITY))
    ink = Image.new("RGB", size, _MARK_COLOUR)
    canvas.paste(ink, ((w - size[0]) // 2, (h - size[1]) // 2), stencil)


def _clean_label(label: str) -> str:
    """Printable ASCII only (the bundled fonts cover it), at most 80 chars."""
    return "".join(c if " " <= c <= "~" else "?" for c in label)[:80]


def _draw_label(canvas: Image.Image, label: str) -> None:
    """Write ``label`` small on a dark plate in the bottom-left corner."""
    text = _clean_label(label)
    if not text:
        return
    w, h = canvas.size
    font = _font(max(9, min(w, h) // 40))
    draw = ImageDraw.Draw(canvas)
    margin = max(2, min(w, h) // 100)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    x, y = margin, h - margin - (bottom - top)
    draw.rectangle((x - 2, y - 2, x + right - left + 2, y + bottom - top + 2), fill=(20, 20, 20))
    draw.text((x - left, y - top), text, fill=(255, 255, 255), font=font)


def render_tryon(
    person: bytes,
    garments: Sequence[bytes],
    size: tuple[int, int] | None,
    label: str,
) -> bytes:
    """A watermarked PNG of the person "wearing" the garments.

    The first garment goes on the upper body, the others on the lower body;
    undecodable garments are skipped. The output is exactly ``size`` (width,
    height) or, when None, the person's size. ValueError for a bad ``size``.
    """
    canvas = _person_base(person, None if size is None else _check_size(size))
    worn: list[str] = []
    for index, data in enumerate(garments):
        cutout = _cutout(data)
        if cutout is None:
            continue
        part = "upper" if index == 0 else "lower"
        _place(canvas, cutout, part)
        if part not in worn:
            worn.append(part)
    _watermark(canvas)
    _draw_label(canvas, label)
    return _png(canvas, persons=1, garments=worn or None)


# --- parsing ------------------------------------------------------------------


def render_parsing(image: bytes, part: str) -> tuple[bytes, bytes, tuple[int, int, int, int]]:
    """Segment a garment ``part`` ("upper", "lower" or "dress") of ``image``.

    Returns (RGBA PNG of the input with alpha 255 inside the part's region and
    0 outside, RGB PNG of the input cropped to that region, bbox (x1, y1, x2,
    y2) with x2/y2 exclusive). ValueError for an unknown part or bad image.
    """
    if part not in REGIONS:
        raise ValueError(f"unknown garment part {part!r}; expected one of {sorted(REGIONS)}")
    im = _decode_rgb(image)
    if im is None:
        raise ValueError("image could not be decoded")
    bbox = region_box(part, im.size)
    alpha = Image.new("L", im.size, 0)
    alpha.paste(255, bbox)
    parsing = im.convert("RGBA")
    parsing.putalpha(alpha)
    crop = im.crop(bbox)
    return _png(parsing, garments=(part,)), _png(crop, garments=(part,)), bbox
