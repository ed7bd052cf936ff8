"""Tests for mock_server.assets: the generated sample image catalogue."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from mock_server import assets, scenes
from tests.helpers import rgb_colours

KIB = 1024
MIB = 1024 * 1024
CATALOGUE_ORDER = [
    "person.png",
    "person.jpg",
    "person-small.png",
    "top.png",
    "bottom.png",
    "dress.png",
    "coarse.png",
    "coarse-mismatch.png",
    "mask.png",
    "mask-soft.png",
    "no-person.png",
    "two-persons.png",
    "too-small.png",
    "too-large.png",
    "too-heavy.png",
    "too-light.png",
    "wrong-format.gif",
    "undecodable.png",
]
FORMAT_OF_MEDIA_TYPE = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF"}
DECODABLE = [name for name in CATALOGUE_ORDER if name != "undecodable.png"]
ROOT = Path(__file__).resolve().parent.parent


def decode(name: str) -> Image.Image:
    """Fully decode a catalogue image with Pillow."""
    im = Image.open(io.BytesIO(assets.asset_bytes(name)))
    im.load()
    return im


def count_colour(im: Image.Image, colour: tuple[int, int, int]) -> int:
    """Number of pixels exactly equal to ``colour``."""
    return sum(n for n, c in rgb_colours(im) if c == colour)


def test_catalogue_order_and_fields() -> None:
    assert list(assets.ASSETS) == CATALOGUE_ORDER
    for name, asset in assets.ASSETS.items():
        assert asset.name == name
        assert asset.description.strip()
        assert asset.media_type in FORMAT_OF_MEDIA_TYPE


def test_catalogue_is_read_only() -> None:
    with pytest.raises(TypeError):
        # The point of the test: the catalogue's type is read-only too, so mypy must be told.
        assets.ASSETS["x.png"] = assets.ASSETS["person.png"]  # type: ignore[index]


def test_unknown_name_raises_key_error() -> None:
    with pytest.raises(KeyError):
        assets.asset_bytes("nope.png")
    with pytest.raises(KeyError):
        assets.build_asset("nope.png")


@pytest.mark.parametrize("name", CATALOGUE_ORDER)
def test_fresh_builds_are_byte_identical(name: str) -> None:
    cached = assets.asset_bytes(name)
    assert assets.build_asset(name) == cached
    assert assets.asset_bytes(name) is cached


def test_bytes_do_not_depend_on_the_process() -> None:
    names = ["person.png"]
    code = (
        "import hashlib, sys; from mock_server import assets; "
        "print(' '.join(hashlib.sha256(assets.build_asset(n)).hexdigest() "
        "for n in sys.argv[1:]))"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONHASHSEED="12345")
    out = subprocess.run(
        [sys.executable, "-c", code, *names],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert out == [hashlib.sha256(assets.asset_bytes(n)).hexdigest() for n in names]


@pytest.mark.parametrize("name", DECODABLE)
def test_decoded_size_and_format_match_declaration(name: str) -> None:
    asset = assets.ASSETS[name]
    im = decode(name)
    assert im.size == (asset.width, asset.height)
    assert im.format == FORMAT_OF_MEDIA_TYPE[asset.media_type]


def test_undecodable_really_fails_to_decode() -> None:
    asset = assets.ASSETS["undecodable.png"]
    data = assets.asset_bytes("undecodable.png")
    assert (asset.width, asset.height) == (0, 0)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    with pytest.raises((OSError, SyntaxError, ValueError)), Image.open(io.BytesIO(data)) as im:
        im.load()


def test_mask_is_binary_torso() -> None:
    mask = decode("mask.png")
    assert mask.mode == "L"
    colours = mask.getcolors()
    assert colours is not None  # a mask has two values, far below getcolors' 256
    values = {value for _, value in colours}
    assert values == {0, 255}
    w, h = mask.size
    assert mask.getpixel((w // 2, int(h * 0.35))) == 255  # chest
    assert mask.getpixel((w // 2, int(h * 0.10))) == 0  # head
    assert mask.getpixel((w // 2, int(h * 0.80))) == 0  # legs
    assert mask.getpixel((5, 5)) == 0


def test_file_sizes() -> None:
    size = {name: len(assets.asset_bytes(name)) for name in CATALOGUE_ORDER}
    assert size["too-heavy.png"] > 5 * MIB
    assert size["too-light.png"] < 5 * KIB
    assert 20 * KIB <= size["person.png"] <= MIB
    for name in ("too-small.png", "too-large.png", "top.png", "bottom.png", "dress.png"):
        assert 5 * KIB < size[name] < 5 * MIB, name


def test_person_jpeg_is_the_same_picture() -> None:
    data = assets.asset_bytes("person.jpg")
    assert data[:3] == b"\xff\xd8\xff"
    jpeg, png = decode("person.jpg"), decode("person.png").convert("RGB")
    assert jpeg.format == "JPEG"
    diff = ImageChops.difference(jpeg.convert("RGB"), png).convert("L")
    mean = sum(i * n for i, n in enumerate(diff.histogram())) / (png.width * png.height)
    assert mean < 3


def test_coarse_only_changes_the_upper_body() -> None:
    person, coarse = decode("person.png"), decode("coarse.png")
    assert coarse.size == person.size
    w, h = person.size
    diff = ImageChops.difference(person.convert("RGB"), coarse.convert("RGB")).getbbox()
    assert diff is not None
    x1, y1, x2, y2 = diff
    assert x1 >= 0.2 * w and x2 <= 0.8 * w and y1 >= 0.15 * h and y2 <= 0.6 * h
    assert count_colour(coarse, scenes.SHIRT) < count_colour(person, scenes.SHIRT) // 10


def test_people_are_drawn() -> None:
    one = count_colour(decode("person.png"), scenes.SKIN)
    two = count_colour(decode("two-persons.png"), scenes.SKIN)
    assert one > 5000
    assert 1.8 < two / one < 2.2
    assert count_colour(decode("no-person.png"), scenes.SKIN) == 0
    assert count_colour(decode("top.png"), scenes.SKIN) == 0


@pytest.mark.parametrize(
    ("name", "colour", "spot"),
    [
        ("top.png", scenes.TOP_COLOUR, (0.5, 0.6)),
        ("bottom.png", scenes.BOTTOM_COLOUR, (0.35, 0.5)),
        ("dress.png", scenes.DRESS_COLOUR, (0.5, 0.6)),
    ],
)
def test_flat_lays_show_a_garment_on_white(
    name: str, colour: tuple[int, int, int], spot: tuple[float, float]
) -> None:
    im = decode(name).convert("RGB")
    w, h = im.size
    assert im.getpixel((2, 2)) == (255, 255, 255)
    inside = im.getpixel((int(w * spot[0]), int(h * spot[1])))
    assert isinstance(inside, tuple)
    assert all(abs(a - b) <= 12 for a, b in zip(inside, colour, strict=True))
