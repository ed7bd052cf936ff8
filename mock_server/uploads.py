"""Images clients upload to the mock, kept in memory under a byte budget (oldest dropped first)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

PREFIX = "/_mock/uploads/"  # where uploads are served (and read back by the mock's image checks)


@dataclass(frozen=True)
class Upload:
    id: str
    data: bytes
    media_type: str
    tenant: str | None


class UploadTooLarge(ValueError):
    pass


class Uploads:
    def __init__(self, max_file: int = 32 * 1024 * 1024, max_total: int = 256 * 1024 * 1024) -> None:
        self.max_file = max_file
        self.max_total = max_total
        self._items: OrderedDict[str, Upload] = OrderedDict()
        self._total = 0

    def put(self, upload: Upload) -> Upload:
        if len(upload.data) > self.max_file:
            raise UploadTooLarge(f"an upload holds at most {self.max_file} bytes")
        old = self._items.pop(upload.id, None)
        if old is not None:  # the same id again (content-addressed uploads): counted once
            self._total -= len(old.data)
        self._items[upload.id] = upload
        self._total += len(upload.data)
        while self._total > self.max_total:
            _, old = self._items.popitem(last=False)
            self._total -= len(old.data)
        return upload

    def all(self) -> list[Upload]:
        return list(self._items.values())

    def get(self, upload_id: str) -> Upload | None:
        return self._items.get(upload_id)

    def clear(self, tenant: str | None = None) -> None:
        for key in [k for k, u in self._items.items() if tenant is None or u.tenant == tenant]:
            self._total -= len(self._items.pop(key).data)
