"""The one engine path for a submit, whatever the vendor.

A vendor's submit handler reads its request into one document per task (one for most operations,
one per item of a batch), then asks the engine: ``decide`` checks each document's images and
decides where every failure shows, ``store`` plans and keeps the task or batch (``submit`` does
both). The handler then shapes the vendor's answer.

Where a failure shows is decided by one rule (``faults.place``), from the contract's error row:

- an error that can occur at the submit is its answer (image errors first: a vendor refuses a
  request before it becomes a task; an injected error for the submit was answered already);
- otherwise an error that can end a task fails it: the item whose image failed, or for an
  injected fault the item carrying its magic marker (else the first);
- otherwise it shows on the next query or cancel of the task (of a batch: of its first task).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, NamedTuple

from contracts.model import ErrorCode, Operation
from contracts.vocabulary import Place, Situation
from mock_server import faults, limits
from mock_server.call import Call
from mock_server.errors import VendorError
from mock_server.image_checks import ImageCheck
from mock_server.tasks import NOTHING, Task
from mock_server.timing import Timing

Inspect = Callable[[Operation, Any, ImageCheck], Situation | None]  # a vendor's own check of an item


class Decision(NamedTuple):
    """What a submit's checks decided: each item's image check, the items whose task fails (with
    its error), and the errors its later reads show."""

    checks: tuple[ImageCheck, ...]
    failures: Mapping[int, ErrorCode]
    later: Mapping[Place, ErrorCode]


async def decide(
    call: Call, operation: Operation, items: Sequence[Any], inspect: Inspect | None = None
) -> Decision:
    """Check every item's images (and ``inspect`` them, for a vendor's own rule), raising the
    vendor error of one that shows at the submit; place the rest, and the call's injected fault."""
    if call.contract.name in call.state.limited:
        await limits.check_rate(call, operation.name)
    checks = []
    for item in items:  # a loop: an awaiting comprehension would be one more coroutine
        checks.append(await _check(call, operation, item))
    return place(call, operation, items, checks, inspect)


async def store(
    call: Call,
    operation: Operation,
    items: Sequence[Any],
    decision: Decision,
    *,
    task_id: str,
    counts: Sequence[int] | None = None,
    extras: Sequence[Mapping[str, Any]] | None = None,
) -> list[Task]:
    """Plan and keep the task (or, for a batch operation, one task per item, ids
    ``<task_id>-<i>``), with the decision's failures; the call names ``task_id`` in the journal.
    ``counts`` overrides each item's number of results; ``extras`` are what answers echo."""
    timing = await call.state.store.timings.get(call.tenant)
    made = plan(call, operation, items, decision, timing, task_id=task_id, counts=counts, extras=extras)
    if call.contract.name in call.state.limited:
        made = await limits.wait_for_slots(call, operation, made, timing)
    for task in made:
        await call.state.store.tasks.add(task)
    call.task_id = task_id
    return made


async def submit(
    call: Call,
    operation: Operation,
    items: Sequence[Any],
    *,
    task_id: str,
    counts: Sequence[int] | None = None,
    extras: Sequence[Mapping[str, Any]] | None = None,
) -> list[Task]:
    """``decide`` then ``store``, for a submit with nothing of the vendor's own between the two
    (deciding here, not through ``decide``: one coroutine fewer on every submit)."""
    if call.contract.name in call.state.limited:
        await limits.check_rate(call, operation.name)
    checks = []
    for item in items:
        checks.append(await _check(call, operation, item))
    decision = place(call, operation, items, checks, None)
    return await store(call, operation, items, decision, task_id=task_id, counts=counts, extras=extras)


def _check(call: Call, operation: Operation, item: Any) -> Awaitable[ImageCheck]:
    return call.state.images.check(
        call.contract, operation, item, call.own_host, call.tenant, stored=call.resolves_stored
    )


def place(
    call: Call,
    operation: Operation,
    items: Sequence[Any],
    checks: Sequence[ImageCheck],
    inspect: Inspect | None,
) -> Decision:
    """Where each failure shows: the call's injected fault, then each item's image error (and
    what ``inspect`` says of it); one that shows at the submit is raised as its answer."""
    contract, kind = call.contract, call.endpoint.kind
    failures: dict[int, ErrorCode] = {}
    later: dict[Place, ErrorCode] = {}
    fault = call.fault
    if fault is not None and fault.error is not None and fault.at not in (None, kind):
        if fault.at == "task":
            failures[faults.marked_item(fault, items, contract, kind)] = fault.error
        elif fault.at is not None:
            later[fault.at] = fault.error
    for index, item in enumerate(items):
        checked = checks[index]
        error = checked.error
        if error is None and inspect is not None:
            situation = inspect(operation, item, checked)
            error = contract.trigger(situation) if situation else None
        if error is None:
            continue
        where = faults.place(error, kind)
        if where == kind:
            raise VendorError(error)
        if where == "task":
            failures.setdefault(index, error)
        else:
            later.setdefault(where, error)
    return Decision(tuple(checks), failures, later)


def plan(
    call: Call,
    operation: Operation,
    items: Sequence[Any],
    decision: Decision,
    timing: Timing,
    *,
    task_id: str,
    counts: Sequence[int] | None,
    extras: Sequence[Mapping[str, Any]] | None,
) -> list[Task]:
    """The task, or a batch operation's tasks, the decision makes."""
    planner, contract, tenant, now, host = (
        call.state.planner,
        call.contract,
        call.tenant,
        call.now,
        call.own_host,
    )
    extras = extras or [NOTHING] * len(items)
    chosen = call.state.settings.options.get(contract.name, NOTHING)  # may pick other durations
    if operation.batch_pointer is None:
        [item], [extra] = items, extras
        return [
            planner.task(
                contract,
                operation,
                timing,
                task_id=task_id,
                tenant=tenant,
                doc=item,
                created=now,
                host=host,
                error=decision.failures.get(0),
                faults=decision.later,
                results=counts[0] if counts else None,
                extra=extra,
                urls=decision.checks[0].urls,
                chosen=chosen,
            )
        ]
    return planner.batch(
        contract,
        operation,
        timing,
        items,
        batch_id=task_id,
        tenant=tenant,
        created=now,
        host=host,
        counts=counts or [operation.results] * len(items),
        extras=extras,
        failures=decision.failures,
        faults=decision.later,
        urls=[checked.urls for checked in decision.checks],
        chosen=chosen,
    )
