"""A vendor's documented rate and concurrency limits (its contract's ``rate_limits``), per tenant,
on the mock clock.

- A rate rule counts calls to its endpoints in a sliding window; past its number the call gets
  the vendor's ``rate.limited`` error. Rules counted per operation are checked where the call's
  operation is known (a submit, by ``submission``; a vendor handler that reads it itself).
- Concurrency: at most N tasks of the tenant run at once; a new task that would be one too many
  waits in the queue until one of them ends. Tasks are planned at their submit, so the wait is
  planned then too, from the timelines of the tenant's tasks still to end (a task canceled later
  gives its slot back only to tasks submitted after the cancel). Progress counted in polls has no
  time to wait in: there the limit does not apply.
"""

from __future__ import annotations

from collections.abc import Sequence

from contracts.model import Contract, Operation
from contracts.service import Concurrency
from mock_server.call import Call
from mock_server.tasks import CANCELED, Task
from mock_server.timing import Timing


async def check_rate(call: Call, operation: str | None = None) -> None:
    """Count the call against the rules of its endpoint (those counted per operation when
    ``operation`` is given, the others when not); the vendor's error past one of them."""
    contract, endpoint = call.contract, call.endpoint.id
    for rule in contract.rate_limits.rules:
        if endpoint not in rule.endpoints or rule.per_operation != (operation is not None):
            continue
        scope = rule.name if operation is None else f"{rule.name}:{operation}"
        key = (contract.name, call.tenant, scope)
        if not await call.state.store.rates.allow(key, call.now, rule.calls, rule.per_seconds):
            raise call.fail("rate.limited")


async def wait_for_slots(
    call: Call, operation: Operation, made: Sequence[Task], timing: Timing
) -> list[Task]:
    """``made`` with each task's queue lengthened until it has a slot under the vendor's
    concurrency, given the tenant's tasks that have yet to end."""
    contract = call.contract
    limit = contract.rate_limits.concurrency
    if limit is None or operation.name not in limit.operations or timing.polls is not None:
        return list(made)
    busy = await _busy(call, contract, limit, operation, timing)
    placed = []
    for task in made:
        queue = task.plan.phases[0][1]
        start = task.created + queue
        run = task.plan.total - queue
        begin = _first_slot(busy, start, run, limit.tasks)
        busy.append((begin, begin + run))
        placed.append(task._replace(plan=task.plan.waiting(begin - start)) if begin > start else task)
    return placed


async def _busy(
    call: Call, contract: Contract, limit: Concurrency, operation: Operation, timing: Timing
) -> list[tuple[float, float]]:
    """When each of the tenant's counted tasks runs, for those that have yet to end."""
    now = call.now
    retention = timing.retention(contract.retention_seconds)
    busy = []
    for task in await call.state.store.tasks.of(call.tenant, contract.name, now, retention):
        if limit.per_operation:
            counted = task.operation == operation.name
        else:
            counted = task.operation in limit.operations
        if not counted or task.plan.polls is not None or task.created + task.plan.total <= now:
            continue
        if (await call.look(task)).stage == CANCELED:
            continue
        busy.append((task.created + task.plan.phases[0][1], task.created + task.plan.total))
    return busy


def _first_slot(busy: Sequence[tuple[float, float]], start: float, run: float, slots: int) -> float:
    """The earliest time from ``start`` at which a run of ``run`` seconds never has ``slots``
    other runs beside it."""
    candidates = sorted({start, *(end for _, end in busy if end > start)})
    for begin in candidates:
        points = [begin, *(s for s, _ in busy if begin < s < begin + run)]
        if all(sum(1 for s, e in busy if s <= p < e) < slots for p in points):
            return begin
    return candidates[-1]  # pragma: no cover - after the last end nothing runs
