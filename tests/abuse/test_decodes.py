"""Decoding clients' images cannot exhaust the runner: a PNG of 76 KB that declares 9000 x 9000
pixels is refused from its header (nothing decoded), and however many submits come at once, at
most two images are decoded at a time. Measured as the peak resident set of this process (the
server thread lives in it), reset before each burst."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import ThreadingHTTPServer

import httpx
import pytest
from PIL import Image

import contracts
from mock_server import Settings
from mock_server.testing import MockServer, serve_in_thread
from tests.helpers import KEY, SYNTHESIS, QuietHandler

DS = contracts.load("dashscope")
MB = 1024 * 1024


def png(mode: str, side: int) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (side, side), 40).save(buf, "PNG")
    return buf.getvalue()


class _Images(QuietHandler):
    served: dict[str, bytes] = {}

    def do_GET(self) -> None:
        self.answer(_Images.served[self.path.split("?")[0]])


@pytest.fixture(scope="module")
def image_host() -> Iterator[str]:
    _Images.served = {"/bomb.png": png("L", 9000), "/large.png": png("RGB", 4000)}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Images)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def decoding_server() -> Iterator[MockServer]:
    with serve_in_thread(Settings(port=0, speed=0, options={"dashscope": {"limits": "off"}})) as running:
        yield running


def peak_growth(burst: list[str], server: MockServer) -> tuple[int, list[str]]:
    """Submit a try-on of each person image URL at once; the growth of the peak resident set
    over the resident set before, and each task's error code."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # the peak (VmHWM) starts again from the resident set now
    before = _status("VmRSS")
    headers = {"Authorization": f"Bearer {KEY}", "X-DashScope-Async": "enable"}
    top = f"{server.url}/_mock/assets/top.png"

    def submit(url: str) -> str:
        doc = {"model": "aitryon", "input": {"person_image_url": url, "top_garment_url": top}}
        with httpx.Client(timeout=60, trust_env=False) as client:
            answer = client.post(server.url + SYNTHESIS, json=doc, headers=headers)
            assert answer.status_code == 200, answer.text
            server.admin("POST", "/clock", json={"advance": 3600})  # past its end, whatever others did
            task = client.get(
                f"{server.url}/api/v1/tasks/{answer.json()['output']['task_id']}", headers=headers
            )
            output = task.json()["output"]
            return str(output.get("code", output["task_status"]))

    with ThreadPoolExecutor(len(burst)) as pool:
        codes = list(pool.map(submit, burst))
    return _status("VmHWM") - before, codes


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        found = re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.M)
    assert found is not None
    return int(found.group(1)) * 1024


def test_a_pixel_bomb_is_refused_from_its_header(decoding_server: MockServer, image_host: str) -> None:
    """Four submits at once of a 76 KB PNG declaring 9000 x 9000 pixels (81 M: a decode would
    take some 330 MB each) fail as DashScope fails too large an image, and the peak resident set
    hardly moves."""
    burst = [f"{image_host}/bomb.png?{i}" for i in range(4)]
    grown, codes = peak_growth(burst, decoding_server)
    assert codes == [DS.trigger("image.side").code] * 4
    assert grown < 100 * MB, f"the peak grew {grown / MB:.0f} MB"


def test_at_most_two_images_are_decoded_at_once(decoding_server: MockServer, image_host: str) -> None:
    """A 4000 x 4000 RGB image takes some 60 MB to decode: one submit's peak, against six at
    once, which take no more than about twice that (two decodes at a time), not six times."""
    one, [done] = peak_growth([f"{image_host}/large.png?one"], decoding_server)
    assert done == DS.lifecycle.succeeded
    six, codes = peak_growth([f"{image_host}/large.png?{i}" for i in range(6)], decoding_server)
    assert codes == [DS.lifecycle.succeeded] * 6
    assert one > 40 * MB, f"one decode grew the peak by {one / MB:.0f} MB only"
    print(f"one {one / MB:.0f} MB, six {six / MB:.0f} MB")
    assert six < 3 * one, f"six submits at once: {six / MB:.0f} MB, one alone {one / MB:.0f} MB"
