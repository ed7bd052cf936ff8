"""Images clients upload to the mock, kept in memory under a byte budget (oldest dropped first)."""

from __future__ import annotations

from dataclasses import dataclass

from mock_server.bounded import Bounded
from mock_server.store.changes import Changes, Tracker

PREFIX = "/_mock/uploads/"  # where uploads are served (and read back by the mock's image checks)


@dataclass(frozen=True)
class Upload:
    id: str
    data: bytes
    media_type: str
    tenant: str | None  # None: made through the admin API, readable by anyone
    expires: float | None = None  # mock time after which it reads as gone (None: never)


class UploadTooLarge(ValueError):
    pass


class MemoryUploads:
    """Files of at most ``max_file`` bytes, at most ``max_total`` bytes (their ids, which a client
    may choose, counted too) and ``entries`` files."""

    def __init__(
        self, max_file: int = 32 * 1024 * 1024, max_total: int = 256 * 1024 * 1024, entries: int = 100_000
    ) -> None:
        self.max_file = max_file
        self._tracker = Tracker()
        self._items: Bounded[str, Upload] = Bounded(
            entries,
            max_bytes=max_total,
            weigh=lambda key, upload: len(key) + len(upload.data),
            on_evict=lambda key, _: self._tracker.drop(key),
        )

    async def put(self, upload: Upload) -> Upload:
        """Keep an upload (the same id again, as content-addressed uploads are, is kept once)."""
        if len(upload.data) > self.max_file:
            raise UploadTooLarge(f"an upload holds at most {self.max_file} bytes")
        self._items.put(upload.id, upload)
        self._tracker.mark(upload.id)
        return upload

    async def get(self, upload_id: str) -> Upload | None:
        return self._items.get(upload_id)

    async def all(self) -> list[Upload]:
        return self._items.values()

    async def clear(self, tenant: str | None = None) -> None:
        for upload in self._items.drop_where(lambda _, upload: tenant is None or upload.tenant == tenant):
            self._tracker.drop(upload.id)

    async def changes(self) -> Changes[Upload]:
        """The uploads kept and the ids gone since the last call; the first call: every upload
        (and from then on, changes are noted)."""
        return self._tracker.take(self._items.keys, self._items.get)

    async def restore(self, uploads: list[Upload]) -> None:
        """Put saved uploads back, not as changes (the bounds apply)."""
        for upload in uploads:
            await self.put(upload)
            self._tracker.unmark(upload.id)
