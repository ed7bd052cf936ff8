"""Result links with odd values in their query answer as OSS answers a link it did not sign (403
``SignatureDoesNotMatch``, XML), never a 500 or a Python message; and the same links given as an
input image are the vendor's unreachable image."""

from __future__ import annotations

from urllib.parse import quote

import pytest

import contracts
from tests.helpers import DashScopeCaller, person_on

DS = contracts.load("dashscope")
ODD = {
    "a signature that is not ASCII": {"Signature": "é"},
    "an Expires of a digit int() refuses": {"Expires": "²"},
    "an Expires of 5,000 digits": {"Expires": "9" * 5000},
}


def odd_link(ds: DashScopeCaller, change: dict[str, str]) -> str:
    """A real result link of a finished task, one query value changed."""
    task_id = ds.task_id()
    ds.advance(3600)
    link = str(ds.output(task_id)["image_url"])
    base, _, query = link.partition("?")
    values = dict(pair.split("=", 1) for pair in query.split("&"))
    for name, value in change.items():
        values[name] = quote(value)
    return base + "?" + "&".join(f"{k}={v}" for k, v in values.items())


@pytest.mark.parametrize("change", ODD.values(), ids=ODD.keys())
def test_an_odd_result_link_is_a_signature_oss_did_not_make(
    ds: DashScopeCaller, change: dict[str, str]
) -> None:
    link = odd_link(ds, change)
    answer = ds.client.get(link)
    assert answer.status_code == 403, answer.text
    assert answer.headers["content-type"].startswith("application/xml")
    assert "<Code>SignatureDoesNotMatch</Code>" in answer.text

    task_id = ds.task_id(inputs=person_on(link))
    ds.advance(3600)
    assert ds.output(task_id)["code"] == DS.trigger("image.unreachable").code
