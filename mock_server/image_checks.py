"""Checking a request's images against its operation's documented limits, with two caches: what
each image URL showed in each role (its facts), and the verdict on a whole request's URLs when every
image in it was a cached fact (the same bytes give the same verdict). Both are per process,
bounded in entries and in bytes (their keys hold clients' URLs), and emptied by a reset.

An image URL of more than ``fetch.URL_CHARS`` characters is refused before anything else is done
with it (the contract's ``image.url``, else ``image.unreachable``), and the task a vendor makes of
the request (one that fails later) does not keep it.

Facts are kept per URL *and role*: a URL on another host stands for the sample image of the role
that asks (``fetch.STAND_INS``), so one URL used for every field (as DAMO's own example request
does) is a model photo as the person, a garment as the garment and a mask as the mask.

An image is read once however many requests ask for it at the same time: those that come while
it is being read wait for that read. (A cold cache under 300 connections used to decode the same
two sample images once per request, in every worker thread at once: seconds of latency and a
hundred MB of memory before the cache held them.)"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cached_property
from typing import Any, Final, NamedTuple

import anyio

from contracts.model import Contract, ErrorCode, Operation, resolve_pointer
from contracts.vocabulary import Situation
from mock_server import images
from mock_server.bounded import Bounded
from mock_server.fetch import URL_CHARS, Fetcher

KEPT = 512  # facts, and verdicts, kept
KEPT_BYTES = 4 * 1024 * 1024  # of facts, and of verdicts
DECODES = 2  # images decoded at once (each in a worker thread; one can hold a few hundred MB)
ENTRY_BYTES = 400  # about what a cached entry holds besides its URLs
CJK = re.compile("[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")  # Chinese characters and punctuation
# What each way an image can fail is, as a situation the contracts map to their errors.
SITUATIONS: Final[Mapping[str, Situation]] = {
    images.UNDECODABLE: "image.undecodable",
    images.FORMAT: "image.format",
    images.BYTES: "image.bytes",
    images.SMALL: "image.small",
    images.SIDE: "image.side",
    images.LIGHT: "image.light",
    images.NOT_BINARY: "image.not_binary",
    images.NO_PERSON: "image.no_person",
    images.MULTI_PERSON: "image.multi_person",
    "unreachable": "image.unreachable",
    "timeout": "image.timeout",
}


class ImageCheck(NamedTuple):
    """The outcome of reading a request's images: the first error, what each one was (by
    pointer), and the value at each of the operation's image pointers (as the request had it)."""

    error: ErrorCode | None
    facts: Mapping[str, images.ImageFacts]
    urls: tuple[Any, ...] = ()


FactsKey = tuple[str | None, str, str]
Outcome = tuple[images.ImageFacts | None, str]


class _Reading:
    """A read of one image in progress; ``outcome`` is set when it ends (None if it raised)."""

    __slots__ = ("done", "outcome")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.outcome: Outcome | None = None


class ImageChecker:
    def __init__(self, fetcher: Fetcher, kept: int = KEPT) -> None:
        self.fetcher = fetcher
        self._facts: Bounded[FactsKey, images.ImageFacts] = Bounded(
            kept, max_bytes=KEPT_BYTES, weigh=lambda key, _: len(key[1]) + ENTRY_BYTES
        )
        self._checks: Bounded[tuple[Any, ...], ImageCheck] = Bounded(
            kept, max_bytes=KEPT_BYTES, weigh=_verdict_weight
        )
        self._reading: dict[FactsKey, _Reading] = {}  # reads in progress (as many as requests)

    @cached_property
    def decodes(self) -> anyio.CapacityLimiter:
        """Every decode of a client's image in this state waits for one of these (admin uploads
        and result drawings too): what decodes hold at once is bounded, whatever the traffic.
        Made at the first decode: making it loads anyio's synchronization, which start-up need not
        wait for."""
        return anyio.CapacityLimiter(DECODES)

    async def check(
        self,
        contract: Contract,
        operation: Operation,
        doc: Any,
        own_host: str,
        tenant: str,
        *,
        stored: bool = True,
    ) -> ImageCheck:
        """The first image error of a request, if any. ``stored``: whether the request may name
        files of the vendor's own storage (else they read as unreachable). The verdict for the
        same URLs (and tenant: an upload's URL reads only its owner's file) is kept when every
        image in it was a cached fact."""
        urls = tuple([resolve_pointer(doc, item.pointer) for item in operation.images])
        for u in urls:  # a loop, not any(): no generator on every submit
            if u is not None and (type(u) is not str or len(u) > URL_CHARS):  # never cached
                return await self._check(contract, operation, urls, own_host, tenant, stored=stored)
        key = (contract.name, operation.name, urls, own_host, tenant, stored)
        kept = self._checks.get(key)
        if kept is not None:
            return kept
        checked = await self._check(contract, operation, urls, own_host, tenant, stored=stored)
        roles = [item.role for item in operation.images]
        if all(self._facts_key(u, r, tenant) in self._facts for u, r in zip(urls, roles, strict=True) if u):
            self._checks.put(key, checked)
        return checked

    async def facts(
        self, url: str, role: str, own_host: str, tenant: str | None, limits: images.Limits
    ) -> Outcome:
        """What an image shows in this role, enough to check it against ``limits``, cached per URL
        and role; else why it could not be read. A read of the same image in progress is waited
        for, not repeated (unless what it found is not enough for these limits)."""
        key = self._facts_key(url, role, tenant)
        cached = self._facts.touch(key)
        if cached is not None and images.judged(cached, limits):
            return cached, ""
        reading = self._reading.get(key)
        if reading is not None:
            await reading.done.wait()
            outcome = reading.outcome
            if outcome is not None and (outcome[0] is None or images.judged(outcome[0], limits)):
                return outcome
            return await self._read(key, url, role, own_host, tenant, limits=limits)  # raised, or not enough
        reading = self._reading[key] = _Reading()
        try:
            reading.outcome = await self._read(key, url, role, own_host, tenant, limits=limits)
            return reading.outcome
        finally:
            del self._reading[key]
            reading.done.set()

    async def _read(
        self, key: FactsKey, url: str, role: str, own_host: str, tenant: str | None, *, limits: images.Limits
    ) -> Outcome:
        fetched = await self.fetcher.get(url, role, own_host, tenant)
        if fetched.data is None:
            return None, fetched.failure or "unreachable"
        found = await anyio.to_thread.run_sync(images.inspect, fetched.data, limits, limiter=self.decodes)
        if fetched.cacheable:
            self._facts.put(key, found)
        return found, ""

    def clear(self, tenant: str | None = None) -> None:
        """Forget every fact and verdict, or those kept for one tenant (its uploads')."""
        if tenant is None:
            self._facts.clear()
            self._checks.clear()
        else:
            self._facts.drop_where(lambda key, _: key[0] == tenant)
            self._checks.drop_where(lambda key, _: key[4] == tenant)

    def _facts_key(self, url: str, role: str, tenant: str | None) -> FactsKey:
        """Where an image's facts are cached: by URL and role (a stand-in depends on the role
        asking), an upload's per tenant too (only its owner reads it)."""
        return (tenant if self.fetcher.private(url) else None, url, role)

    async def _check(
        self,
        contract: Contract,
        operation: Operation,
        urls: tuple[Any, ...],
        own_host: str,
        tenant: str,
        *,
        stored: bool = True,
    ) -> ImageCheck:
        facts: dict[str, images.ImageFacts] = {}
        for item, url in zip(operation.images, urls, strict=True):
            if not isinstance(url, str) or not url:
                continue
            if len(url) > URL_CHARS:
                situation: Situation = (
                    "image.url" if "image.url" in contract.triggers else "image.unreachable"
                )
                kept = tuple("" if u is url else u for u in urls)  # a failed task keeps no such URL
                return ImageCheck(contract.trigger(situation), facts, kept)
            if item.limits.ascii_url and CJK.search(url):
                return ImageCheck(contract.trigger("image.url"), facts, urls)
            if not stored and self.fetcher.stored(url):
                return ImageCheck(contract.trigger("image.unreachable"), facts, urls)
            found, failure = await self.facts(url, item.role, own_host, tenant, item.limits)
            if found is None:
                return ImageCheck(contract.trigger(SITUATIONS.get(failure, "image.unreachable")), facts, urls)
            kind = images.check(found, item.limits, item.persons)
            if kind is not None:
                return ImageCheck(contract.trigger(SITUATIONS[kind]), facts, urls)
            facts[item.pointer] = found
        for group in operation.same_size:
            sizes = {(facts[p].width, facts[p].height) for p in group if p in facts}
            if len(sizes) > 1:
                return ImageCheck(contract.trigger("image.size_mismatch"), facts, urls)
        return ImageCheck(None, facts, urls)


def _verdict_weight(key: tuple[Any, ...], _: ImageCheck) -> int:
    """About the bytes of a kept verdict: its URLs (the key's, which the verdict shares), host,
    tenant, and the rest."""
    urls, host, tenant = key[2], key[3], key[4]
    return sum(len(u) for u in urls if u) + len(host) + len(tenant) + ENTRY_BYTES
