"""Tests for mock_server.images: decoding facts and limit checks."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from mock_server import assets, images
from mock_server.images import ImageFacts


@dataclass(frozen=True)
class FakeLimits:
    """A frozen dataclass implementing the Limits protocol."""

    formats: frozenset[str] = frozenset({"PNG", "JPEG", "BMP", "WEBP"})
    min_bytes: int | None = 5 * 1024
    max_bytes: int | None = 5 * 1024 * 1024
    min_side: int | None = 151
    max_side: int | None = 4096
    binary: bool = False


LIMITS = FakeLimits()
UNBOUNDED = FakeLimits(frozenset({"PNG"}), None, None, None, None)
GARMENT_ASSETS = {"top.png", "bottom.png", "dress.png"}
UL = ("upper", "lower")
# name: (format, persons, garments) as promised by the catalogue
EXPECTED = {
    "person.png": ("PNG", 1, UL),
    "person.jpg": ("JPEG", 1, UL),
    "person-small.png": ("PNG", 1, UL),
    "top.png": ("PNG", 0, ("upper",)),
    "bottom.png": ("PNG", 0, ("lower",)),
    "dress.png": ("PNG", 0, ("dress",)),
    "coarse.png": ("PNG", 1, UL),
    "coarse-mismatch.png": ("PNG", 1, UL),
    "mask.png": ("PNG", None, None),
    "mask-soft.png": ("PNG", None, None),
    "no-person.png": ("PNG", 0, None),
    "two-persons.png": ("PNG", 2, UL),
    "too-small.png": ("PNG", 1, UL),
    "too-large.png": ("PNG", 1, UL),
    "too-heavy.png": ("PNG", None, None),
    "too-light.png": ("PNG", None, None),
    "wrong-format.gif": ("GIF", 1, UL),
    "undecodable.png": (None, None, None),
}


def facts(**changes: Any) -> ImageFacts:
    """A passing PNG fact sheet with some fields replaced."""
    return replace(ImageFacts("PNG", 768, 1024, 100_000, 1, UL), **changes)


def png_with_text(pairs: dict[str, str]) -> bytes:
    """A small PNG carrying arbitrary text chunks."""
    info = PngImagePlugin.PngInfo()
    for key, value in pairs.items():
        info.add_text(key, value)
    buf = io.BytesIO()
    Image.new("RGB", (200, 200), (10, 20, 30)).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def jpeg_with_comment(comment: bytes) -> bytes:
    """A small JPEG carrying a comment."""
    buf = io.BytesIO()
    Image.new("RGB", (200, 200), (10, 20, 30)).save(buf, "JPEG", comment=comment)
    return buf.getvalue()


def test_catalogue_is_covered() -> None:
    assert set(EXPECTED) == set(assets.ASSETS)


@cache
def asset_facts(name: str) -> ImageFacts:
    """``inspect`` of a catalogue image, computed once per test session."""
    return images.inspect(assets.asset_bytes(name))


@pytest.mark.parametrize("name", list(EXPECTED))
def test_inspect_matches_catalogue(name: str) -> None:
    asset = assets.ASSETS[name]
    data = assets.asset_bytes(name)
    got = asset_facts(name)
    fmt, persons, garments = EXPECTED[name]
    assert got.format == fmt
    assert (got.width, got.height) == (asset.width, asset.height)
    assert got.size_bytes == len(data)
    assert got.persons == persons
    assert got.garments == garments


@pytest.mark.parametrize("name", list(EXPECTED))
def test_check_trips_declared_kind(name: str) -> None:
    asset = assets.ASSETS[name]
    persons = None if name in GARMENT_ASSETS else 1
    limits = replace(LIMITS, binary=True) if name.startswith("mask") else LIMITS
    got = images.check(asset_facts(name), limits, persons=persons)
    assert got == asset.trips


def test_every_failure_kind_has_an_asset() -> None:
    trips = {a.trips for a in assets.ASSETS.values()} - {None}
    assert trips == set(images.CHECK_KINDS)


def test_garment_fails_when_a_person_is_required() -> None:
    top = asset_facts("top.png")
    assert images.check(top, LIMITS) is None
    assert images.check(top, LIMITS, persons=1) == images.NO_PERSON


def test_check_kinds_constants() -> None:
    assert images.CHECK_KINDS == (
        "undecodable",
        "format",
        "bytes",
        "small",
        "side",
        "light",
        "not_binary",
        "no_person",
        "multi_person",
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"format": None, "width": 0, "height": 0}, "undecodable"),
        ({"format": "GIF", "size_bytes": 10, "width": 10}, "format"),
        ({"format": "png"}, None),
        ({"size_bytes": 5 * 1024 - 1}, "light"),
        ({"size_bytes": 5 * 1024 - 1, "width": 10}, "small"),  # a floor on bytes comes after the sides
        ({"size_bytes": 5 * 1024 - 1, "persons": 0}, "light"),
        ({"size_bytes": 5 * 1024 * 1024 + 1, "persons": 0}, "bytes"),
        ({"size_bytes": 5 * 1024}, None),
        ({"size_bytes": 5 * 1024 * 1024}, None),
        ({"width": 150, "persons": 3}, "small"),
        ({"height": 4097}, "side"),
        ({"width": 151, "height": 4096}, None),
        ({"width": 4096, "height": 151}, None),
        ({"persons": 0}, "no_person"),
        ({"persons": 2}, "multi_person"),
        ({"persons": None}, None),
    ],
)
def test_check_order_and_bounds(changes: dict[str, Any], expected: str | None) -> None:
    assert images.check(facts(**changes), LIMITS, persons=1) == expected


def test_person_checks_only_when_requested() -> None:
    assert images.check(facts(persons=0), LIMITS) is None
    assert images.check(facts(persons=5), LIMITS) is None
    assert images.check(facts(persons=2), LIMITS, persons=2) is None
    assert images.check(facts(persons=3), LIMITS, persons=2) == "multi_person"


def test_unbounded_limits() -> None:
    tiny = facts(width=1, height=1, size_bytes=1)
    huge = facts(width=100_000, height=1, size_bytes=10**9)
    assert images.check(tiny, UNBOUNDED) is None
    assert images.check(huge, UNBOUNDED) is None
    assert images.check(facts(format="JPEG"), UNBOUNDED) == "format"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"garbage",
        b"\x89PNG\r\n\x1a\n",
        b"\xff\xd8\xff\xe0" + b"\x00" * 64,
        b"GIF89a",
        b"BM" + b"\xff" * 60,
    ],
)
def test_garbage_is_undecodable(data: bytes) -> None:
    got = images.inspect(data)
    assert got == ImageFacts(None, 0, 0, len(data), None, None)
    assert images.check(got, LIMITS) == "undecodable"


@pytest.mark.parametrize("name", ["person.png", "person.jpg", "top.png"])
@pytest.mark.parametrize("cut", [1, 4, 12, 100, 5000])
def test_truncated_files_are_undecodable(name: str, cut: int) -> None:
    data = assets.asset_bytes(name)
    assert images.inspect(data[:-cut]).format is None


def test_trailing_bytes_after_png_end_are_tolerated() -> None:
    data = assets.asset_bytes("person.png") + b"trailer"
    assert images.inspect(data).format == "PNG"


def test_other_formats_are_reported() -> None:
    for fmt in ("BMP", "WEBP", "GIF", "TIFF"):
        buf = io.BytesIO()
        Image.new("RGB", (300, 200), (1, 2, 3)).save(buf, fmt)
        got = images.inspect(buf.getvalue())
        assert (got.format, got.width, got.height) == (fmt, 300, 200)
        assert (got.persons, got.garments) == (None, None)


def test_multi_picture_jpeg_counts_as_jpeg() -> None:
    buf = io.BytesIO()
    first, second = Image.new("RGB", (300, 200), (1, 2, 3)), Image.new("RGB", (300, 200))
    first.save(buf, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(buf.getvalue())).format == "MPO"
    assert images.inspect(buf.getvalue()).format == "JPEG"


def png_header_only(width: int, height: int) -> bytes:
    """A PNG claiming a huge size, with a tiny (empty) image data chunk."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload)
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [9_500, 20_000, 60_000])
def test_pixel_bombs_are_refused_as_too_large_a_side_from_their_header(side: int) -> None:
    """More pixels than the mock decodes: the header's sides, nothing decoded, and too large a
    side even where the limits give no largest side (no warning from Pillow either)."""
    got = images.inspect(png_header_only(side, side))
    assert (got.format, got.width, got.height, got.header_only) == ("PNG", side, side, True)
    assert images.check(got, LIMITS) == images.check(got, UNBOUNDED) == images.SIDE


def test_pixel_cap_applies_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    data = assets.asset_bytes("person-small.png")
    assert images.inspect(data).header_only is False
    monkeypatch.setattr(images, "MAX_PIXELS", 400 * 533 - 1)
    got = images.inspect(data)
    assert got.header_only and (got.width, got.height, got.persons) == (400, 533, None)
    assert images.check(got, UNBOUNDED) == images.SIDE


@pytest.mark.parametrize(
    ("pairs", "persons", "garments"),
    [
        ({"tryon-mock:persons": "3", "tryon-mock:garments": "dress"}, 3, ("dress",)),
        ({"tryon-mock:persons": "two"}, None, None),
        ({"tryon-mock:persons": "-1"}, None, None),
        ({"tryon-mock:garments": "upper,hat"}, None, None),
        ({"tryon-mock:garments": "upper,upper"}, None, None),
        ({"tryon-mock:garments": " lower , upper "}, None, ("lower", "upper")),
        ({"other": "1"}, None, None),
    ],
)
def test_png_metadata(pairs: dict[str, str], persons: int | None, garments: tuple[str, ...] | None) -> None:
    got = images.inspect(png_with_text(pairs))
    assert (got.format, got.persons, got.garments) == ("PNG", persons, garments)


@pytest.mark.parametrize(
    ("comment", "persons", "garments"),
    [
        (b"tryon-mock:persons=2;tryon-mock:garments=upper", 2, ("upper",)),
        (b"tryon-mock:persons=0", 0, None),
        (b"tryon-mock:persons=x;tryon-mock:garments=shoes", None, None),
        (b"\xff\xfe not utf-8", None, None),
        (b"just a camera comment", None, None),
    ],
)
def test_jpeg_comment_metadata(comment: bytes, persons: int | None, garments: tuple[str, ...] | None) -> None:
    got = images.inspect(jpeg_with_comment(comment))
    assert (got.format, got.persons, got.garments) == ("JPEG", persons, garments)


def test_metadata_writers_round_trip() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (160, 160)).save(buf, "PNG", pnginfo=images.png_info(4, ("lower",)))
    assert images.inspect(buf.getvalue()).persons == 4
    assert images.comment(1, ("upper", "dress")) == (b"tryon-mock:persons=1;tryon-mock:garments=upper,dress")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096))
def test_inspect_never_raises(data: bytes) -> None:
    got = images.inspect(data)
    assert got.size_bytes == len(data)
    if got.format is None:
        assert (got.width, got.height, got.persons, got.garments) == (0, 0, None, None)
    else:
        assert got.width >= 1 and got.height >= 1


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_prefixes_of_person_png_are_undecodable(data: st.DataObject) -> None:
    png = assets.asset_bytes("person.png")
    cut = data.draw(st.integers(min_value=0, max_value=len(png) - 1))
    assert images.inspect(png[:cut]) == ImageFacts(None, 0, 0, cut, None, None)


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=1, max_size=64), st.integers(min_value=8, max_value=4000))
def test_corrupted_person_png_never_raises(junk: bytes, at: int) -> None:
    png = assets.asset_bytes("person.png")
    got = images.inspect(png[:at] + junk + png[at + len(junk) :])
    assert got.format in (None, "PNG")


def test_binary_masks_are_told_from_grey_and_coloured_images() -> None:
    mask = images.inspect(assets.asset_bytes("mask.png"))
    assert mask.binary
    assert images.check(mask, FakeLimits(binary=True)) is None
    person = images.inspect(assets.asset_bytes("person.png"))
    assert not person.binary
    assert images.check(person, FakeLimits(binary=True)) == images.NOT_BINARY
    grey = Image.new("L", (400, 400), 128)
    buffer = io.BytesIO()
    grey.save(buffer, "PNG")
    assert not images.inspect(buffer.getvalue()).binary
