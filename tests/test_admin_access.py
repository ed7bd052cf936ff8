"""Who the admin API's control routes answer, besides loopback and the token (test_admin.py):
pages of other origins (a "simple" cross-site POST), bodies not declared JSON, and names the mock
does not go by (DNS rebinding). The public reads and the vendors' routes answer anyone."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from mock_server import Settings, create_app
from mock_server.testing import serve_in_thread
from tests.helpers import KEY, DashScopeCaller

EVIL = "https://evil.example"
REBOUND = "rebind.evil.example"
LOOPBACK = ("127.0.0.1", 40000)
PNG = b"\x89PNG\r\n\x1a\n"

# Every control route: those that change the mock, and those that read what it holds (keys).
CONTROL: list[tuple[str, str, Any]] = [
    ("POST", "/_mock/reset", {}),
    ("GET", "/_mock/journal", None),
    ("GET", "/_mock/tasks", None),
    ("GET", "/_mock/clock", None),
    ("POST", "/_mock/clock", {"advance": 1}),
    ("GET", "/_mock/timing", None),
    ("POST", "/_mock/timing", {"progress": "polls:1"}),
    ("GET", "/_mock/faults", None),
    ("POST", "/_mock/faults", {"vendor": "dashscope", "error": "Throttling"}),
    ("DELETE", "/_mock/faults", None),
    ("GET", "/_mock/scenarios", None),
    ("POST", "/_mock/scenarios/happy-path", {}),
    ("GET", "/_mock/credentials", None),
    ("POST", "/_mock/credentials", {"dashscope": [{"api_key": "sk-planted"}]}),
    ("DELETE", f"/_mock/credentials?tenant={KEY}", None),  # a tenant that exists: the default one
    ("GET", "/_mock/quota", None),
    ("POST", "/_mock/quota", {"vendor": "aidge", "tenant": KEY, "api": "a", "pool": "trial", "left": 1}),
    ("POST", "/_mock/uploads", PNG),
]
PUBLIC = ["/_mock/health", "/_mock/assets", "/_mock/assets/top.png", "/_mock/openapi/damo.json"]
PUBLIC += ["/_mock/contracts", "/_mock/contracts/aidge"]


def send(client: TestClient, method: str, path: str, body: Any, **headers: str) -> Any:
    if isinstance(body, bytes):
        return client.request(method, path, content=body, headers={"Content-Type": "image/png", **headers})
    return client.request(method, path, json=body, headers=headers)


def rules(client: TestClient) -> list[Any]:
    found: list[Any] = client.get("/_mock/faults").json()["rules"]
    return found


def keys(client: TestClient) -> set[str]:
    return {c["api_key"] for c in client.get("/_mock/credentials").json()["dashscope"]}


# -- Origin ----------------------------------------------------------------------------------------


def test_a_cross_site_simple_post_changes_nothing(client: TestClient) -> None:
    """What a page at evil.example can send to http://127.0.0.1:8000 without a preflight."""
    simple = {"Content-Type": "text/plain", "Origin": EVIL}
    rule = b'{"vendor": "dashscope", "error": "Throttling"}'
    refused = client.post("/_mock/faults", content=rule, headers=simple)
    assert refused.status_code == 403 and "another origin" in refused.json()["error"]
    planted = client.post(
        "/_mock/credentials", content=b'{"dashscope": [{"api_key": "sk-x"}]}', headers=simple
    )
    assert planted.status_code == 403
    assert rules(client) == [] and "sk-x" not in keys(client)


@pytest.mark.parametrize(("method", "path", "body"), CONTROL, ids=[f"{m} {p}" for m, p, _ in CONTROL])
def test_every_control_route_refuses_another_origin(
    client: TestClient, method: str, path: str, body: Any
) -> None:
    for origin in (EVIL, "null", "http://testserver:8080", "https://testserver"):
        refused = send(client, method, path, body, Origin=origin)
        assert refused.status_code == 403, (origin, refused.text)
        assert set(refused.json()) == {"error"}
    own = send(client, method, path, body, Origin="http://testserver")
    assert own.status_code < 300, own.text


def test_the_public_url_origin_is_the_mocks_own() -> None:
    client = TestClient(create_app(Settings(speed=0, public_url="https://mock.example.com")))
    ok = client.post("/_mock/clock", json={"advance": 1}, headers={"Origin": "https://mock.example.com"})
    assert ok.status_code == 200, ok.text
    for origin in ("https://mock.example.com:8443", "http://mock.example.com", EVIL):
        assert client.post("/_mock/clock", json={"advance": 1}, headers={"Origin": origin}).status_code == 403


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonp",
        None,
    ],
)
def test_json_routes_take_only_bodies_declared_json(client: TestClient, content_type: str | None) -> None:
    rule = b'{"vendor": "dashscope", "error": "Throttling"}'
    headers = {"Content-Type": content_type} if content_type else {}
    before = client.get("/_mock/clock").json()["now"]
    for path, body in (("/_mock/faults", rule), ("/_mock/reset", b"{}"), ("/_mock/clock", b'{"advance": 5}')):
        refused = client.post(path, content=body, headers=headers)
        assert refused.status_code == 415, (path, refused.text)
        assert "application/json" in refused.json()["error"]
    assert rules(client) == [] and client.get("/_mock/clock").json()["now"] == before
    declared = {"Content-Type": "Application/JSON; charset=utf-8"}
    assert client.post("/_mock/faults", content=rule, headers=declared).status_code == 201
    assert client.post("/_mock/reset").status_code == 200, "no body, nothing to declare"
    image = client.post("/_mock/uploads", content=PNG, headers={"Content-Type": "image/png"})
    assert image.status_code != 415, "an upload's body is an image"


# -- Host ------------------------------------------------------------------------------------------


def named(name: str, **settings: Any) -> TestClient:
    """A loopback network client that reaches the mock as ``name`` (its Host)."""
    return TestClient(create_app(Settings(speed=0, **settings)), base_url=f"http://{name}", client=LOOPBACK)


def test_a_rebound_name_reads_no_secrets_and_changes_nothing() -> None:
    """A page at rebind.evil.example:8000 whose name now resolves to 127.0.0.1 (same origin)."""
    client = named(f"{REBOUND}:8000")
    same_origin = {"Origin": f"http://{REBOUND}:8000"}
    read = client.get("/_mock/credentials", headers=same_origin)
    assert read.status_code == 403 and KEY not in read.text
    assert "--allowed-host" in read.json()["error"] and REBOUND in read.json()["error"]
    assert client.get("/_mock/journal").status_code == 403
    assert client.post("/_mock/reset", json={}).status_code == 403
    assert client.post("/_mock/credentials", json={"dashscope": [{"api_key": "sk-y"}]}).status_code == 403
    assert "sk-y" not in keys(named("127.0.0.1:8000"))


@pytest.mark.parametrize(
    ("host", "settings"),
    [
        ("localhost:8000", {}),
        ("LOCALHOST", {}),
        ("127.0.0.1:8000", {}),
        ("127.3.2.1:9", {}),
        ("[::1]:8000", {}),
        ("devbox.lan:8000", {"host": "devbox.lan"}),
        ("0.0.0.0:8000", {"host": "0.0.0.0"}),
        ("mock.example.com", {"public_url": "https://mock.example.com/base"}),
        ("mock:8000", {"allowed_hosts": ("mock",)}),
        ("runner-7.ci.example:8000", {"allowed_hosts": (".ci.example",)}),
        ("ci.example.", {"allowed_hosts": ("*.ci.example",)}),
        (REBOUND, {"allowed_hosts": ("*",)}),
    ],
)
def test_names_of_the_mock_are_answered_and_no_others(host: str, settings: dict[str, Any]) -> None:
    client = named(host, **settings)
    assert client.get("/_mock/credentials").status_code == 200, host
    assert client.get("/_mock/credentials", headers={"Origin": EVIL}).status_code == 403, (
        "a name is no origin"
    )
    if "*" not in settings.get("allowed_hosts", ()):
        for other in ("evil.example", "mock.evil.example", "notci.example", "127.0.0.1.evil.example"):
            assert named(other, **settings).get("/_mock/credentials").status_code == 403, other


def test_vendor_routes_and_public_reads_answer_any_name_and_origin() -> None:
    client = named(f"{REBOUND}:8000")
    assert client.get("/_mock/tasks").status_code == 403
    anywhere = {"Origin": EVIL}
    for path in PUBLIC:
        assert client.get(path, headers=anywhere).status_code == 200, path
    ds = DashScopeCaller(client)
    task_id = ds.task_id(headers=anywhere)
    local = TestClient(client.app, base_url="http://127.0.0.1", client=LOOPBACK)
    local.post("/_mock/clock", json={"advance": 3600}).raise_for_status()
    link = ds.output(task_id)["image_url"]
    assert client.get(link, headers=anywhere).status_code == 200, "a result link works from anywhere"


def test_a_real_server_refuses_a_rebound_host_and_serves_its_own_clients() -> None:
    """Through uvicorn: the plugin's and serve_in_thread's admin client (the URL's name) work."""
    with serve_in_thread(Settings(port=0, speed=0)) as server:
        tenant = server.new_tenant()
        tenant.timing("dashscope", progress="polls:1")
        with httpx.Client(base_url=server.url, trust_env=False, timeout=10) as http:
            rebound = http.get("/_mock/credentials", headers={"Host": f"{REBOUND}:8000"})
            assert rebound.status_code == 403 and KEY not in rebound.text
            cross = http.post(
                "/_mock/faults", content=b"{}", headers={"Origin": EVIL, "Content-Type": "text/plain"}
            )
            assert cross.status_code == 403
            key = tenant.credentials["dashscope"]["api_key"]
            query = http.get(
                "/api/v1/tasks/nope", headers={"Host": REBOUND, "Authorization": f"Bearer {key}"}
            )
            assert query.status_code == 200, "vendor routes answer any name"
        assert tenant.journal("dashscope")[-1]["endpoint"] == "task-query"
