"""Image URLs: loopback servers are really read (capped); other hosts follow the policy and the
guarded fetch never connects to private, link-local or metadata addresses."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import anyio
import pytest
from starlette.testclient import TestClient

import contracts
from mock_server import Settings, assets, create_app
from mock_server.fetch import Fetcher
from tests.aidge_rig import Aidge
from tests.damo_rig import DamoCaller
from tests.helpers import DashScopeCaller, QuietHandler, asset, person_on

DS = contracts.load("dashscope")
PAGES = {"/person.png": assets.asset_bytes("person.png"), "/huge.png": b"\x89PNG" + b"\0" * (2 * 1024 * 1024)}


class _Images(QuietHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        _Images.hits.append(self.path)
        if self.path == "/slow.png":  # headers, then a body that never comes
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.flush()
            time.sleep(3)
            return
        data = PAGES.get(self.path)
        if data is None:
            self.send_error(404)
            return
        self.answer(data)


@pytest.fixture
def image_host() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Images)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_loopback_image_server_is_really_read(ds: DashScopeCaller, image_host: str) -> None:
    _Images.hits.clear()
    task_id = ds.task_id(inputs=person_on(f"{image_host}/person.png"))
    missing = ds.task_id(inputs=person_on(f"{image_host}/gone.png"))
    ds.advance(3600)
    assert ds.output(task_id)["task_status"] == DS.lifecycle.succeeded
    assert ds.output(missing)["code"] == DS.trigger("image.unreachable").code
    assert "/person.png" in _Images.hits and "/gone.png" in _Images.hits


def test_downloads_are_capped(image_host: str) -> None:
    fetcher = Fetcher(max_bytes=1024 * 1024)
    got = anyio.run(fetcher.get, f"{image_host}/huge.png", "person")
    assert (got.data, got.failure) == (None, "bytes")


def test_downloads_are_capped_in_time(image_host: str) -> None:
    fetcher = Fetcher(timeout=0.5)
    started = time.monotonic()
    got = anyio.run(fetcher.get, f"{image_host}/slow.png", "person")
    assert (got.data, got.failure) == (None, "timeout")
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/p.png",
        "http://192.168.0.1/p.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00::1]/p.png",
        "http://100.64.0.1/p.png",
        "http://0.0.0.0:9/p.png",
    ],
)
def test_guarded_fetch_refuses_non_public_addresses(url: str) -> None:
    got = anyio.run(Fetcher(policy="fetch").get, url, "person")
    assert (got.data, got.failure) == (None, "unreachable")


def test_reject_policy_and_odd_schemes() -> None:
    for policy in ("reject", "synthesize"):
        fetcher = Fetcher(policy=policy)
        assert anyio.run(fetcher.get, "ftp://example.com/p.png", "person").failure == "unreachable"
        assert anyio.run(fetcher.get, "http:///p.png", "person").failure == "unreachable"
    assert anyio.run(Fetcher(policy="reject").get, "https://example.com/p.png", "person").data is None
    synthesized = anyio.run(Fetcher().get, "https://example.com/p.png", "garment")
    assert synthesized.data == assets.asset_bytes("top.png")


def test_the_mocks_own_urls_on_another_host_name_are_not_fetched() -> None:
    ds = DashScopeCaller(TestClient(create_app(Settings(speed=0, remote_images="reject"))))
    task_id = ds.task_id(inputs=person_on("http://mock.example:8000/_mock/assets/person.png"))
    ds.advance(3600)
    assert ds.output(task_id)["code"] == DS.trigger("image.unreachable").code


def test_an_upload_is_readable_only_by_its_tenant(ds: DashScopeCaller) -> None:
    """An image a tenant uploaded is the unreachable image it would be to anyone else: another
    tenant's try-on of it fails as the vendor fails an unreachable URL, even after the owner's
    use put its facts in the cache; an upload made for nobody in particular serves everyone."""
    png = ds.client.get("/_mock/assets/person.png").content
    ds.client.post("/_mock/credentials", json={"dashscope": [{"api_key": "sk-other"}]}).raise_for_status()
    other = DashScopeCaller(ds.client, "sk-other")
    mine = ds.client.post("/_mock/uploads", params={"tenant": ds.key}, content=png).json()["url"]
    shared = ds.client.post("/_mock/uploads", content=png).json()["url"]
    unreachable = DS.trigger("image.unreachable").code
    owned = ds.task_id(inputs=person_on(mine))
    ds.advance(3600)
    assert ds.output(owned)["task_status"] == DS.lifecycle.succeeded
    stolen = other.task_id(inputs=person_on(mine))
    common = other.task_id(inputs=person_on(shared))
    other.advance(3600)
    assert other.output(stolen)["code"] == unreachable
    assert other.output(common)["task_status"] == DS.lifecycle.succeeded


def test_one_off_host_url_stands_for_the_sample_of_each_role_that_asks(
    ds: DashScopeCaller, damo: DamoCaller, aidge: Aidge
) -> None:
    """A URL on another host is the sample image of the role asking for it, whichever role asked
    first: the same URL is a garment as a garment, a model photo as a person or a coarse result,
    a mask as a mask (DAMO's own example uses one URL for every field)."""
    url = "https://img.example.com/same.png"
    garment_first = ds.task_id(inputs={"person_image_url": asset("person.png"), "top_garment_url": url})
    refined = ds.task_id(
        "aitryon-refiner",
        {"person_image_url": url, "top_garment_url": url, "coarse_image_url": url},
        {"gender": "woman"},
    )
    ds.advance(3600)
    assert [ds.output(t)["task_status"] for t in (garment_first, refined)] == [DS.lifecycle.succeeded] * 2

    damo.result_key([{"model_image": url, "tops_image": url, "pants_image": url, "mask_image": url}])

    flat_lay_checked = {"clothesList": [{"imageUrl": url, "type": "tops"}], "modelImage": [url]}
    aidge.task_id([{**flat_lay_checked, "inputQualityDetect": 1}])
