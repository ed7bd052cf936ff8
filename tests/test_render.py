"""Tests for mock_server.render: try-on results and garment parsing."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops

from mock_server import assets, images, render
from tests.helpers import rgb_colours

PERSON = assets.asset_bytes("person.png")
TOP = assets.asset_bytes("top.png")
BOTTOM = assets.asset_bytes("bottom.png")


def decode(data: bytes) -> Image.Image:
    """Fully decode PNG/JPEG bytes."""
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def count(im: Image.Image, box: tuple[int, int, int, int], test: str) -> int:
    """Pixels in ``box`` that are reddish ("red") or bluish ("blue")."""
    pixels = rgb_colours(im.crop(box))
    if test == "red":
        return sum(n for n, (r, g, b) in pixels if r > g + 60 and r > b + 60)
    return sum(n for n, (r, g, b) in pixels if b > r + 40 and b > g + 20)


def region(part: str, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Pixel box of a part's fractional region."""
    fx1, fy1, fx2, fy2 = render.REGIONS[part]
    w, h = size
    return (int(fx1 * w), int(fy1 * h), int(fx2 * w), int(fy2 * h))


@pytest.fixture(scope="module")
def plain() -> bytes:
    """The person with no garments and a short label."""
    return render.render_tryon(PERSON, [], None, "task-1")


def test_result_is_png_of_requested_size() -> None:
    out = render.render_tryon(PERSON, [TOP, BOTTOM], (512, 640), "task-1")
    im = decode(out)
    assert (im.format, im.mode, im.size) == ("PNG", "RGB", (512, 640))


@pytest.mark.parametrize(
    ("name", "size"),
    [("person.png", (768, 1024)), ("person-small.png", (400, 533)), ("person.jpg", (768, 1024))],
)
def test_result_keeps_person_size_without_size(name: str, size: tuple[int, int]) -> None:
    out = render.render_tryon(assets.asset_bytes(name), [TOP], None, "t")
    assert decode(out).size == size


@pytest.mark.parametrize("size", [(1, 1), (7, 300), (300, 7), (1000, 200)])
def test_odd_sizes_are_exact(size: tuple[int, int]) -> None:
    assert decode(render.render_tryon(PERSON, [TOP, BOTTOM], size, "x" * 200)).size == size


@pytest.mark.parametrize("size", [(0, 10), (10, -1), (10_000, 10)])
def test_bad_size_is_rejected(size: tuple[int, int]) -> None:
    with pytest.raises(ValueError):
        render.render_tryon(PERSON, [], size, "t")


def test_result_carries_one_person(plain: bytes) -> None:
    facts = images.inspect(plain)
    assert (facts.format, facts.persons) == ("PNG", 1)


def test_watermark_is_visible(plain: bytes) -> None:
    person, result = decode(PERSON), decode(plain)
    w, h = person.size
    whole = (0, 0, w, h)
    assert count(person, whole, "red") < 0.001 * w * h  # only the mouth
    assert count(result, whole, "red") > 0.02 * w * h
    centre = (w // 4, h // 4, 3 * w // 4, 3 * h // 4)
    assert count(result, centre, "red") > 0.01 * w * h


def test_label_is_written_in_a_corner(plain: bytes) -> None:
    other = render.render_tryon(PERSON, [], None, "task-2")
    bbox = ImageChops.difference(decode(plain), decode(other)).getbbox()
    assert bbox is not None
    w, h = decode(plain).size
    _, top, right, _ = bbox
    assert right <= w // 2 and top >= h * 3 // 4


def test_result_is_deterministic(plain: bytes) -> None:
    assert render.render_tryon(PERSON, [], None, "task-1") == plain
    first = render.render_tryon(PERSON, [TOP, BOTTOM], (300, 400), "t")
    assert render.render_tryon(PERSON, [TOP, BOTTOM], (300, 400), "t") == first


def test_garments_are_composited(plain: bytes) -> None:
    dressed = decode(render.render_tryon(PERSON, [TOP, BOTTOM], None, "task-1"))
    bare = decode(plain)
    upper, lower = region("upper", bare.size), region("lower", bare.size)
    # The top is red-orange; the trousers are blue.
    assert count(dressed, upper, "red") > count(bare, upper, "red") + 20_000
    assert count(dressed, lower, "blue") > 20_000
    assert count(bare, lower, "blue") == 0
    facts = images.inspect(render.render_tryon(PERSON, [TOP, BOTTOM], None, "t"))
    assert facts.garments == ("upper", "lower")


def test_single_garment_goes_on_the_upper_body() -> None:
    dressed = decode(render.render_tryon(PERSON, [BOTTOM], None, "t"))
    size = dressed.size
    assert count(dressed, region("upper", size), "blue") > 20_000
    below = (0, int(0.6 * size[1]), size[0], size[1])
    assert count(dressed, below, "blue") == 0


def test_undecodable_garments_are_skipped(plain: bytes) -> None:
    assert render.render_tryon(PERSON, [b"junk", b""], None, "task-1") == plain


def test_undecodable_person_falls_back_to_sample(plain: bytes) -> None:
    assert render.render_tryon(b"not an image", [], None, "task-1") == plain


@pytest.mark.parametrize(
    ("name", "part"),
    [
        ("person.png", "upper"),
        ("person.png", "lower"),
        ("person.png", "dress"),
        ("person.jpg", "lower"),
        ("too-small.png", "upper"),
        ("too-small.png", "dress"),
    ],
)
def test_parsing_alpha_matches_bbox(name: str, part: str) -> None:
    source = decode(assets.asset_bytes(name)).convert("RGB")
    parsing_png, crop_png, bbox = render.render_parsing(assets.asset_bytes(name), part)
    parsing, crop = decode(parsing_png), decode(crop_png)
    w, h = source.size
    x1, y1, x2, y2 = bbox
    fx1, fy1, fx2, fy2 = render.REGIONS[part]
    assert max(abs(x1 - fx1 * w), abs(x2 - fx2 * w)) <= 1
    assert max(abs(y1 - fy1 * h), abs(y2 - fy2 * h)) <= 1
    assert (parsing.mode, parsing.size) == ("RGBA", source.size)
    alpha = parsing.getchannel("A")
    assert alpha.getbbox() == bbox  # nothing opaque outside the bbox
    assert alpha.crop(bbox).getextrema() == (255, 255)
    assert alpha.getextrema() == (0, 255)
    assert ImageChops.difference(parsing.convert("RGB"), source).getbbox() is None
    assert (crop.mode, crop.size) == ("RGB", (x2 - x1, y2 - y1))
    assert ImageChops.difference(crop, source.crop(bbox)).getbbox() is None


def test_parsing_tiny_image_has_non_empty_bbox() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (1, 1), (9, 9, 9)).save(buf, "PNG")
    _, crop_png, bbox = render.render_parsing(buf.getvalue(), "upper")
    assert bbox == (0, 0, 1, 1)
    assert decode(crop_png).size == (1, 1)


def test_parsing_is_deterministic() -> None:
    assert render.render_parsing(TOP, "dress") == render.render_parsing(TOP, "dress")


@pytest.mark.parametrize("part", ["shoes", "", "Upper"])
def test_parsing_unknown_part_raises(part: str) -> None:
    with pytest.raises(ValueError):
        render.render_parsing(PERSON, part)


def test_parsing_undecodable_raises() -> None:
    with pytest.raises(ValueError):
        render.render_parsing(assets.asset_bytes("undecodable.png"), "upper")
