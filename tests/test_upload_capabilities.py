"""An upload's link is all it takes to read it, so a tenant's upload stays its own: its id cannot
be predicted (not from the seed, not from the tenant and the file), and an image URL that names it
in other words (percent-encoded, with dot segments or doubled slashes) is the same upload, which
another tenant's try-on reads as unreachable (it used to fetch it through the mock's public
upload route)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import httpx
import pytest
from starlette.testclient import TestClient

import contracts
from mock_server import Settings, assets, create_app
from mock_server.testing import MockServer, Tenant, serve_in_thread
from tests.ailabtools_rig import PRO, task_of
from tests.helpers import SYNTHESIS, DashScopeCaller

DS = contracts.load("dashscope")


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with serve_in_thread(Settings(port=0)) as running:
        yield running


def try_on(server: MockServer, tenant: Tenant, person: str) -> dict[str, str]:
    """A DashScope try-on of ``person`` by ``tenant``, finished at its first query: its output."""
    key = tenant.credentials["dashscope"]["api_key"]
    headers = {"Authorization": f"Bearer {key}", "X-DashScope-Async": "enable"}
    doc = {
        "model": "aitryon",
        "input": {"person_image_url": person, "top_garment_url": f"{server.url}/_mock/assets/top.png"},
    }
    with httpx.Client(timeout=30, trust_env=False) as client:
        submitted = client.post(server.url + SYNTHESIS, json=doc, headers=headers)
        assert submitted.status_code == 200, submitted.text
        task = client.get(
            f"{server.url}/api/v1/tasks/{submitted.json()['output']['task_id']}", headers=headers
        )
    output: dict[str, str] = task.json()["output"]
    return output


@pytest.mark.parametrize(
    "spelling",
    [
        "/_mock/%75ploads/{id}.png",
        "/_mock/uploads/%7Bid%7D",
        "/_mock/assets/../uploads/{id}.png",
        "//_mock//uploads/{id}.png",
    ],
)
def test_another_spelling_of_a_tenants_upload_is_still_its_own(server: MockServer, spelling: str) -> None:
    owner, other = server.new_tenant(), server.new_tenant()
    for tenant in (owner, other):
        tenant.timing("dashscope", progress="polls:1")
    png = assets.asset_bytes("person.png")
    made = server.admin("POST", "/uploads", params={"tenant": owner.id("dashscope")}, content=png).json()
    path = spelling.replace("%7Bid%7D", "".join(f"%{b:02X}" for b in made["id"].encode())).format(
        id=made["id"]
    )
    url = server.url + path
    assert try_on(server, owner, url)["task_status"] == DS.lifecycle.succeeded
    assert try_on(server, other, url)["code"] == DS.trigger("image.unreachable").code


def test_the_seed_does_not_make_upload_ids() -> None:
    """Two servers with the same seed give the same task ids, but not the same upload ids, nor
    the same folders in DashScope's upload policy."""
    made: list[tuple[str, str, str]] = []
    for _ in range(2):
        with TestClient(create_app(Settings(speed=0, seed=7))) as client:
            ds = DashScopeCaller(client)
            upload = client.post("/_mock/uploads", content=assets.asset_bytes("person.png")).json()["id"]
            made.append((ds.task_id(), upload, ds.policy()["upload_dir"]))
    (task_a, upload_a, folder_a), (task_b, upload_b, folder_b) = made
    assert task_a == task_b, "the seed still makes the task ids"
    assert upload_a != upload_b and folder_a != folder_b


def test_an_upload_made_from_a_form_cannot_be_named_from_its_tenant_and_file(client: TestClient) -> None:
    """AILabTools' file parts are kept as uploads of the tenant, one per file: their id is no
    hash anyone can compute from the tenant and the file (the public upload route would serve
    it to whoever did)."""
    task_of(client, PRO)
    [entry] = client.get("/_mock/journal", params={"vendor": "ailabtools"}).json()["entries"]
    digest = hashlib.sha256(assets.asset_bytes("person.png")).hexdigest()
    guessed = hashlib.sha256(f"{entry['tenant']}:{digest}".encode()).hexdigest()[:24]
    assert client.get(f"/_mock/uploads/{guessed}").status_code == 404
