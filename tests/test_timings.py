"""Where each operation's durations come from, and the choice between sources that disagree: every
operation of every contract cites the page or note its queue and run seconds come from; the
DashScope refiner takes the current page's 5-15 s by default and the old page's 45 s with
``--option dashscope.refiner_timing=seed``, through HTTP on the manual clock."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pytest
from starlette.testclient import TestClient

import contracts
from mock_server import Settings, create_app
from tests.helpers import DashScopeCaller, asset, refiner_on

# A copied vendor page (vendor-docs/NNN) or a section of the research notes (vendor-notes B2).
CITATION = re.compile(r"vendor-(docs/[0-9]{3}|notes [A-D][0-9]?)\b")
OPERATIONS = [
    pytest.param(vendor, name, id=f"{vendor}-{name}")
    for vendor in contracts.vendor_names()
    for name in contracts.load(vendor).operations
]
DS = contracts.load("dashscope")
REFINER = DS.operations["aitryon-refiner"]


@pytest.mark.parametrize(("vendor", "name"), OPERATIONS)
def test_every_operation_cites_the_source_of_its_durations(vendor: str, name: str) -> None:
    contract = contracts.load(vendor)
    op = contract.operations[name]
    assert contract.raw["operations"][name]["timing_source"] == op.timing_source
    assert CITATION.search(op.timing_source), f"{vendor} {name}: {op.timing_source!r} cites no page"
    for option, by_choice in op.timings.items():
        assert option in contract.options
        for choice, durations in by_choice.items():
            assert choice in contract.options[option].choices
            assert choice != contract.options[option].default
            assert CITATION.search(durations.source), f"{vendor} {name} {option}={choice}"


def test_the_refiner_s_two_sources_are_an_option() -> None:
    option = DS.options["refiner_timing"]
    assert (option.default, set(option.choices)) == ("current", {"current", "seed"})
    current, seed = REFINER.durations({}), REFINER.durations({"refiner_timing": "seed"})
    assert REFINER.durations({"refiner_timing": "current"}) == current
    assert 5 <= current.queue_seconds + current.run_seconds <= 15  # the current page: about 5-15 s
    assert "vendor-notes B2" in current.source
    assert seed.queue_seconds + seed.run_seconds == 45  # the old page: about 45 s
    assert "vendor-docs/004" in seed.source


@contextmanager
def dashscope(options: Mapping[str, str]) -> Iterator[DashScopeCaller]:
    """A fresh in-process app on the manual clock, with these DashScope options."""
    with TestClient(create_app(Settings(speed=0, seed=7, options={"dashscope": dict(options)}))) as client:
        yield DashScopeCaller(client)


def seconds_to_finish(ds: DashScopeCaller, task_id: str, most: int = 120) -> int:
    """Whole seconds of the mock clock until the task reads SUCCEEDED (moved one at a time)."""
    for elapsed in range(most + 1):
        if ds.output(task_id)["task_status"] == DS.lifecycle.succeeded:
            return elapsed
        ds.advance(1)
    raise AssertionError(f"{task_id} not done after {most} s")


def refine(ds: DashScopeCaller) -> str:
    return ds.task_id(
        model="aitryon-refiner", inputs=refiner_on(asset("coarse.png")), parameters={"gender": "woman"}
    )


@pytest.mark.parametrize(
    ("options", "seconds"),
    [
        pytest.param({}, 12, id="default-current-page"),
        pytest.param({"refiner_timing": "current"}, 12, id="current-page"),
        pytest.param({"refiner_timing": "seed"}, 45, id="seed-page"),
    ],
)
def test_refiner_timing_sets_how_long_a_refiner_task_takes(options: Mapping[str, str], seconds: int) -> None:
    with dashscope(options) as ds:
        refined = refine(ds)
        assert seconds_to_finish(ds, refined) == seconds
        assert ds.output(refined)["image_url"]


def test_the_seed_page_s_refiner_is_still_running_when_the_current_one_is_done() -> None:
    current = REFINER.durations({})
    done = current.queue_seconds + current.run_seconds
    with dashscope({"refiner_timing": "seed"}) as ds:
        task_id = refine(ds)
        ds.advance(done)
        assert ds.output(task_id)["task_status"] in {p.status for p in DS.lifecycle.phases[1:]}
        first = DS.operations["aitryon"]  # not retimed by the refiner's option
        assert seconds_to_finish(ds, ds.task_id()) == first.queue_seconds + first.run_seconds


def test_an_unknown_refiner_timing_is_refused() -> None:
    with pytest.raises(ValueError, match="refiner_timing"):
        create_app(Settings(options={"dashscope": {"refiner_timing": "old"}}))
