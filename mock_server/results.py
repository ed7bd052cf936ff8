"""Result images: drawn from a recipe on first download, kept in a bounded per-process cache, and
served under links that carry an expiry and a signature like an object store's presigned URLs.

A try-on's recipe is read off its task (its inputs, size and id) while the task is kept; parsing
and crops keep theirs in the store's ``Recipes``. An expired or tampered link answers as Alibaba
Cloud OSS answers one (403 with an XML body).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote_plus

import anyio

from mock_server import render
from mock_server.bounded import Bounded
from mock_server.clock import Clock
from mock_server.fetch import Fetcher
from mock_server.store import Recipes, Tasks
from mock_server.store.recipes import Recipe
from mock_server.tasks import Task, TaskView

ACCESS_KEY_ID = "LTAI5tTryonMockResults"
PREFIX = "/_mock/results/"
CACHE_BYTES = 128 * 1024 * 1024
CACHE_ENTRIES = 50_000
EXPIRES_DIGITS, INDEX_DIGITS = 12, 9  # the longest Expires and result index a link may carry

# Why a link fails -> (HTTP status, OSS error code, OSS message).
OSS_ERRORS = {
    "signature": (
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
    ),
    "expired": (403, "AccessDenied", "Request has expired."),
    "missing": (404, "NoSuchKey", "The specified key does not exist."),
}


def result_key(task_id: str, index: int) -> str:
    """The key of a task's ``index``-th result image."""
    return f"{task_id}-{index}"


def result_of(key: str) -> tuple[str, int] | None:
    """The task id and index a result key names (``result_key`` read back), or None."""
    task_id, _, index = key.rpartition("-")
    return (task_id, int(index)) if task_id and _number(index, INDEX_DIGITS) else None


def _number(text: str, digits: int) -> bool:
    """Whether ``text`` is a number of at most ``digits`` ASCII digits (``isdigit`` alone takes
    "²" and other digits ``int`` refuses, and ``int`` refuses more than 4300 of them)."""
    return 0 < len(text) <= digits and text.isascii() and text.isdigit()


def result_keys(task: Task) -> list[str]:
    return [result_key(task.id, i) for i in range(task.results)]


def path(key: str) -> str:
    """The path of a result image's link (its query string carries the expiry and signature)."""
    return f"{PREFIX}{key}.png"


def oss_error(code: str, message: str, request_id: str, **extra: str) -> str:
    """An OSS-style XML error document."""
    fields = "".join(f"  <{k}>{v}</{k}>\n" for k, v in extra.items())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n'
        f"  <Code>{code}</Code>\n  <Message>{message}</Message>\n"
        f"  <RequestId>{request_id}</RequestId>\n  <HostId>tryon-mock</HostId>\n{fields}</Error>\n"
    )


def gmt(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class ResultImages:
    """Links to result images, and the images themselves."""

    def __init__(
        self,
        recipes: Recipes,
        tasks: Tasks,
        fetcher: Fetcher,
        clock: Clock,
        decodes: Callable[[], anyio.CapacityLimiter],
    ) -> None:
        self.recipes = recipes
        self.tasks = tasks
        self.fetcher = fetcher
        self.clock = clock
        self._decodes = decodes  # drawing decodes the inputs: it waits its turn with the checks
        self._cache: Bounded[str, bytes] = Bounded(
            CACHE_ENTRIES, max_bytes=CACHE_BYTES, weigh=lambda key, png: len(key) + len(png)
        )

    # -- links -----------------------------------------------------------------------------------

    def url(self, base_url: str, key: str, expires: float) -> str:
        exp = int(expires)
        signature = quote_plus(self._sign(key, exp))  # what urlencode makes of the three fields
        query = f"Expires={exp}&OSSAccessKeyId={ACCESS_KEY_ID}&Signature={signature}"
        return f"{base_url.rstrip('/')}{path(key)}?{query}"

    def task_urls(self, task: Task, view: TaskView, base_url: str, ttl: float) -> list[str]:
        """The links to a finished task's images, valid ``ttl`` seconds after it ended."""
        expires = (view.ended or self.clock.now()) + ttl
        return [self.url(base_url, key, expires) for key in result_keys(task)]

    def link_problem(self, key: str, params: Mapping[str, str]) -> str | None:
        """Why a result link does not work now ("signature" or "expired"), or None. Whatever its
        query holds (an Expires that is no number of ours, a signature in any characters), a
        link that is not one the mock signed answers as OSS answers a bad signature."""
        expires, signature = params.get("Expires", ""), params.get("Signature", "")
        if not _number(expires, EXPIRES_DIGITS) or not signature.isascii():
            return "signature"
        if not hmac.compare_digest(self._sign(key, int(expires)), signature):
            return "signature"
        return "expired" if int(expires) < self.clock.now() else None

    def _sign(self, key: str, expires: int) -> str:
        mac = hmac.new(self.recipes.secret, f"GET\n{key}\n{expires}".encode(), hashlib.sha1)
        return base64.b64encode(mac.digest()).decode()

    # -- images ----------------------------------------------------------------------------------

    async def recipe(self, key: str) -> Recipe | None:
        """How to draw a result image: a kept recipe (parsing, crops), else the try-on of the task
        the key names, while the task is kept."""
        kept = await self.recipes.get(key)
        if kept is not None:
            return kept
        named = result_of(key)
        task = await self.tasks.find(named[0]) if named else None
        if task is None or named is None or named[1] >= task.results:
            return None
        index = named[1]
        roles = task.inputs
        base = (roles.get("coarse") or roles.get("person") or roles.get("image") or ("",))[0]
        return Recipe(
            kind="tryon",
            base=base,
            garments=tuple(roles.get("garment", ())),
            size=task.result_size,
            label=task.id if task.results == 1 else f"{task.id} #{index + 1}",
            host=task.host,
            tenant=task.tenant,
        )

    async def draw(self, key: str) -> bytes | None:
        """The PNG of a result key while its recipe is known, drawn once and then cached."""
        recipe = await self.recipe(key)
        if recipe is None:
            return None
        cached = self._cache.touch(key)
        if cached is not None:
            return cached
        base = await self._bytes(recipe.base, "person", recipe)
        if recipe.kind == "tryon":
            garments = [await self._bytes(g, "garment", recipe) for g in recipe.garments]
            data = await anyio.to_thread.run_sync(
                render.render_tryon, base, garments, recipe.size, recipe.label, limiter=self._decodes()
            )
        else:
            parsing, crop, _ = await anyio.to_thread.run_sync(
                render.render_parsing, base, recipe.part, limiter=self._decodes()
            )
            data = parsing if recipe.kind == "parsing" else crop
        self._cache.put(key, data)
        return data

    async def parse(self, keys: tuple[str, str], recipe: Recipe) -> tuple[int, ...]:
        """Segment one garment part now (a synchronous vendor call): keep both recipes, and both
        images; the part's bounding box."""
        data = await self._bytes(recipe.base, "image", recipe)
        parsing, crop, box = await anyio.to_thread.run_sync(
            render.render_parsing, data, recipe.part, limiter=self._decodes()
        )
        for key, kind, image in ((keys[0], "parsing", parsing), (keys[1], "crop", crop)):
            await self.recipes.add(key, recipe._replace(kind=kind))
            self._cache.put(key, image)
        return tuple(box)

    async def served(self, name: str, query: str, tenant: str | None) -> bytes | None:
        """A result link read back by the mock itself (an input naming a result image)."""
        key = name.removesuffix(".png")
        if self.link_problem(key, dict(parse_qsl(query))) is not None:
            return None
        return await self.draw(key)

    def forget(self, task: Task) -> None:
        """A task left the store: the images drawn for it go with it."""
        for key in result_keys(task):
            self._cache.pop(key)

    def clear(self) -> None:
        self._cache.clear()

    def cached(self, key: str) -> bytes | None:
        return self._cache.get(key)

    async def _bytes(self, url: str, role: str, recipe: Recipe) -> bytes:
        return (await self.fetcher.get(url, role, recipe.host, recipe.tenant)).data or b""
