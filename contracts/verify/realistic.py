"""Production-like values, made with Faker from a seed the drawing draws (so Hypothesis shrinks and
replays them exactly, and a failure's printed scenario holds the very value).

- Image URLs on other hosts, as shops and CDNs serve them: long paths, dated folders, unicode file
  names (percent-encoded, or raw where the field takes them), query strings with signed-URL
  parameters (OSS, CloudFront, S3 presigned: base64 signatures percent-encoded, ``%2F`` in a
  credential) and image-processing or tracking parameters. The mock answers them with a stand-in
  sample image of the field's role (``--remote-images synthesize``, its default), never contacting
  the host: every host is under a reserved name (RFC 2606: ``.example``, ``.test``), so even a
  mock that fetches remote images finds none.
- Free text for a vendor's text fields: names, companies (``&``, apostrophes), phrases and
  sentences, in several scripts.
- Tenant names, from company names.
"""

from __future__ import annotations

import base64
import random
import re
import string
from functools import cache
from urllib.parse import quote

from faker import Faker

LOCALES = ("en_US", "zh_CN", "ja_JP", "de_DE", "fr_FR")
TLDS = ("example", "example.com", "example.net", "test")
HOST_PREFIXES = ("img", "cdn", "static", "assets", "media", "oss-cn-hangzhou", "images-eu")
EXTENSIONS = ("png", "jpg", "jpeg", "webp", "PNG")
SEEDS = 2**32


@cache
def _faker(locale: str) -> Faker:
    return Faker(locale)


def _seeded(seed: int) -> tuple[Faker, random.Random]:
    rng = random.Random(seed)
    fake = _faker(rng.choice(LOCALES))
    fake.seed_instance(seed)
    return fake, rng


def image_url(seed: int, ascii_only: bool = False) -> str:
    """An image URL on a CDN-like host under a reserved name. ``ascii_only``: every non-ASCII
    character percent-encoded (DAMO refuses raw CJK in a URL)."""
    fake, rng = _seeded(seed)
    host = f"{rng.choice(HOST_PREFIXES)}.{_slug(fake.domain_word()) or 'shop'}.{rng.choice(TLDS)}"
    folders = [_slug(w) for w in fake.words(rng.randint(0, 4))]
    if rng.random() < 0.5:
        day = fake.date_between("-3y")
        folders += [f"{day.year}", f"{day.month:02d}", f"{day.day:02d}"]
    if rng.random() < 0.4:
        folders.append(fake.sha1()[: rng.randint(8, 40)])
    name = " ".join(fake.words(rng.randint(1, 3))) + rng.choice(("", f" ({rng.randint(1, 9)})", "_final"))
    raw = not ascii_only and rng.random() < 0.3
    leaf = name.replace(" ", "_") if raw else quote(name, safe="")
    path = "/".join(f for f in folders if f)
    url = f"https://{host}/{path + '/' if path else ''}{leaf}.{rng.choice(EXTENSIONS)}"
    query = _query(fake, rng)
    return url + ("?" + query if query else "")


def _query(fake: Faker, rng: random.Random) -> str:
    expires = rng.randint(1_700_000_000, 1_900_000_000)
    signature = quote(base64.b64encode(rng.randbytes(20)).decode(), safe="")
    kind = rng.choice(("oss", "cloudfront", "s3", "process", "tracking", "none"))
    params: list[tuple[str, str]] = []
    if kind == "oss":
        params = [("Expires", str(expires)), ("OSSAccessKeyId", "LTAI" + _token(rng, 16))]
        params.append(("Signature", signature))
    elif kind == "cloudfront":
        policy = base64.b64encode(rng.randbytes(30)).decode().translate(str.maketrans("+=/", "-_~"))
        params = [("Expires", str(expires)), ("Signature", policy), ("Key-Pair-Id", "K" + _token(rng, 13))]
    elif kind == "s3":
        day = fake.date_between("-1y").strftime("%Y%m%d")
        params = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", quote(f"AKIA{_token(rng, 16)}/{day}/us-east-1/s3/aws4_request", safe="")),
            ("X-Amz-Date", f"{day}T{rng.randint(0, 23):02d}{rng.randint(0, 59):02d}00Z"),
            ("X-Amz-Expires", str(rng.choice((300, 3600, 86400)))),
            ("X-Amz-SignedHeaders", "host"),
            ("X-Amz-Signature", rng.randbytes(32).hex()),
        ]
    elif kind == "process":
        params = [("x-oss-process", quote(f"image/resize,w_{rng.choice((400, 800, 1080))}", safe=""))]
    elif kind == "tracking":
        params = [("utm_source", _slug(fake.word()) or "shop"), ("v", str(rng.randint(1, 10**6)))]
    return "&".join(f"{k}={v}" for k, v in params)


def text(seed: int) -> str:
    """A value for a free-text field: a name, a company, a catch phrase or a sentence, in one of
    several scripts (never empty)."""
    fake, rng = _seeded(seed)
    makers = (fake.first_name, fake.name, fake.company, fake.catch_phrase, fake.sentence)
    return str(rng.choice(makers)()).strip() or "text"


def tenant(seed: int) -> str:
    """A tenant label like a customer's name: a company, reduced to letters, digits and dashes."""
    fake, _ = _seeded(seed)
    return _slug(fake.company())[:40] or "tenant"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _token(rng: random.Random, size: int) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(size))
