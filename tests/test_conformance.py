"""The mock against its own contracts: Hypothesis-drawn valid requests (the client suite's
drawing, with its lifecycles and injected faults) are accepted, and every answer the mock gives
validates against the contract's response schema for its endpoint and status."""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

import contracts
from contracts.model import Contract, Endpoint
from contracts.verify import verify_client
from mock_server.testing import MockServer
from tests.clients.run import CORRECT


def endpoint_of(contract: Contract, method: str, path: str) -> Endpoint:
    for endpoint in contract.endpoints:
        for template in endpoint.paths:
            if endpoint.method == method and re.fullmatch(re.sub(r"{[^}]+}", "[^/]+", template), path):
                return endpoint
    raise AssertionError(f"{method} {path} is no {contract.name} endpoint")


def is_xml(response: httpx.Response) -> bool:
    content_type: str = response.headers.get("content-type", "")
    return content_type.startswith(("application/xml", "text/xml"))


def xml_fields(response: httpx.Response) -> dict[str, str]:
    """An XML answer of one level (OSS's ``<Error>``) as its elements' texts by tag."""
    return {child.tag: child.text or "" for child in ElementTree.fromstring(response.content)}


def conformance(contract: Contract, response: httpx.Response) -> tuple[str | None, list[str]]:
    """Which schema one answer passes (``None`` for an error carried in headers), and what is wrong
    with it: the body must pass the schema for its status, or the endpoint's error schema (for
    vendors that answer errors with the same status)."""
    endpoint = endpoint_of(contract, response.request.method, response.request.url.path)
    if not response.content:
        success = endpoint.response_schema(response.status_code)
        if response.status_code < 300 and success and contract.is_valid(success, ""):
            return success, []  # an answer documented as empty (OSS's upload)
        # an envelope whose error rides in headers (the DAMO gateway)
        envelopes = contract.raw.get("envelopes", {})
        carried = {h.lower() for e in envelopes.values() if not e["body"] for h in e["headers"]}
        return None, [] if carried & {h.lower() for h in response.headers} else ["an empty answer"]
    body = xml_fields(response) if is_xml(response) else response.json()
    candidates = [endpoint.response_schema(response.status_code), endpoint.responses.get("default")]
    found = {s: [e.message for e in contract.validator(s).iter_errors(body)] for s in candidates if s}
    passed = next((s for s, errors in found.items() if not errors), None)
    return passed, [] if passed else [f"{endpoint.id} {response.status_code}: {found}"]


@pytest.mark.parametrize("vendor", contracts.vendor_names())
def test_drawn_requests_are_accepted_and_every_answer_conforms(
    tryon_mock_server: MockServer, vendor: str
) -> None:
    contract = contracts.load(vendor)
    answers: list[httpx.Response] = []

    def keep(response: httpx.Response) -> None:
        response.read()
        answers.append(response)

    client: Any = CORRECT[vendor]()
    client.on_response = keep
    report = verify_client(client, vendor=vendor, server=tryon_mock_server, max_examples=60, seed=3)
    assert report.ok, report.text()  # request_conformance among the checks: every request accepted
    assert len(answers) > 60
    verdicts = [conformance(contract, a) for a in answers]
    assert [p for _, found in verdicts for p in found] == []
    passed = {schema for schema, _ in verdicts}
    assert len(passed) >= 2, f"successes and injected errors were both answered: {passed}"
