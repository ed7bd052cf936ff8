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

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from contracts.model import ErrorCode, Operation
from contracts.vocabulary import Place, Situation
from mock_server import faults
from mock_server.call import Call
from mock_server.errors import VendorError
from mock_server.image_checks import ImageCheck
from mock_server.tasks import Task

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
    contract, kind, host, tenant = call.contract, call.endpoint.kind, call.own_host, call.tenant
    failures: dict[int, ErrorCode] = {}
    later: dict[Place, ErrorCode] = {}
    fault = call.fault
    if fault is not None and fault.error is not None and fault.at not in (None, kind):
        if fault.at == "task":
            failures[faults.marked_item(fault, items, contract, kind)] = fault.error
        elif fault.at is not None:
            later[fault.at] = fault.error
    checks: list[ImageCheck] = []
    for index, item in enumerate(items):
        checked = await call.state.images.check(contract, operation, item, host, tenant)
        checks.append(checked)
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
    state = call.state
    timing = await state.store.timings.get(call.tenant)
    planner, contract = state.planner, call.contract
    extras = extras or [{}] * len(items)
    if operation.batch_pointer is None:
        [item], [extra] = items, extras
        made = [
            planner.task(
                contract,
                operation,
                timing,
                task_id=task_id,
                tenant=call.tenant,
                doc=item,
                created=call.now,
                host=call.own_host,
                error=decision.failures.get(0),
                faults=decision.later,
                results=counts[0] if counts else None,
                extra=extra,
                urls=decision.checks[0].urls,
            )
        ]
    else:
        made = planner.batch(
            contract,
            operation,
            timing,
            items,
            batch_id=task_id,
            tenant=call.tenant,
            created=call.now,
            host=call.own_host,
            counts=counts or [operation.results] * len(items),
            extras=extras,
            failures=decision.failures,
            faults=decision.later,
            urls=[checked.urls for checked in decision.checks],
        )
    for task in made:
        await state.store.tasks.add(task)
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
    """``decide`` then ``store``: a submit with nothing of the vendor's own between the two."""
    decision = await decide(call, operation, items)
    return await store(call, operation, items, decision, task_id=task_id, counts=counts, extras=extras)
