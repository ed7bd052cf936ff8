"""The named checks: each reads what the server recorded for one example (the journal of the
example's tenant and its tasks) and what the client reported, and says what is wrong, if anything.

Names follow Schemathesis' (``*_conformance``, predicates in snake case). Each check has options
with defaults; a user turns a check off or changes an option by name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from contracts.verify import documents
from contracts.verify.evidence import Evidence, Verdict
from contracts.verify.matching import missing, names_row

TOLD_SHOWN = 1000  # characters of an answered error message quoted (a string-to-sign is long)
# Seconds past the job's time budget a client may still report in: the last answer's delivery and
# the outcome's return, on a loaded machine (a command's start is the adapter's own allowance).
BUDGET_ALLOWANCE = 0.25
# The least gap the pace checks accept by default, as a share of the job's interval: a client that
# waits the interval after an answer never shows less than the interval, while one that does not
# wait shows 1-30 ms (a new connection per request: 20-40 ms) on a loaded 2-core runner, so the
# threshold sits near the interval (40 ms of the default 50), leaving 20 % for a client's jitter.
PACE_SHARE = 0.8
REQUEST_SITUATIONS = ("body.", "form.", "header.", "query.", "operation.", "route.", "list.")


Check = Callable[[Evidence, Mapping[str, Any]], list[str]]


@dataclass(frozen=True)
class CheckSpec:
    name: str
    run: Check
    options: Mapping[str, Any]
    summary: str


CHECKS: dict[str, CheckSpec] = {}


def check(name: str, summary: str, **options: Any) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        CHECKS[name] = CheckSpec(name, fn, options, summary)
        return fn

    return register


def _path(url: Any) -> str:
    return urlsplit(url).path if isinstance(url, str) else repr(url)


def _describe(entry: Mapping[str, Any]) -> str:
    what = f"{entry['method']} {entry['path']} -> {entry['status']}"
    return what + (f" {entry['error']}" if entry.get("error") else "")


def _pace(job: Mapping[str, Any], name: str, options: Mapping[str, Any], option: str) -> float:
    given = options.get(option)
    return float(given) if given is not None else float(job[name]) * PACE_SHARE


# -- the checks --------------------------------------------------------------------------------


@check("outcome_conformance", "the client reports one outcome document that passes outcome.schema.json")
def outcome_conformance(ev: Evidence, options: Mapping[str, Any]) -> list[str]:
    if ev.problem is not None:
        return [ev.problem]
    return [f"outcome{p}: {m}" for p, m in documents.outcome_problems(ev.outcome)]


@check("request_conformance", "every request goes to a contract endpoint and passes its request schema")
def request_conformance(ev: Evidence, options: Mapping[str, Any]) -> list[str]:
    c = ev.contract
    ids = {c.triggers[s] for s in c.triggers if s.startswith(REQUEST_SITUATIONS)} | {
        r.error for r in c.request_errors
    }
    found = []
    for e in ev.entries:
        if ev.kind(e) == "unknown":
            found.append(f"{e['method']} {e['path']} is no endpoint of the {c.name} contract")
        elif e.get("error") in ids and not ev.injected(e) and not e.get("tasks") and not ev.forgotten(e):
            found.append(f"{_describe(e)}: the server refused the request's shape")
    return found


@check("request_matches_job", "the submit carries exactly the job's parameters and files")
def request_matches_job(ev: Evidence, options: Mapping[str, Any]) -> list[str]:
    if not ev.submits:
        return [] if not ev.entries else ["no submit reached the server"]
    expected: Any = ev.job["request"]
    if ev.job["files"]:
        expected = {**expected, **{k: "sha256:" + f["sha256"] for k, f in ev.job["files"].items()}}
    found = []
    for e in ev.submits:
        if e.get("params") is None:
            continue  # answered before the parameters were read (auth, an injected fault)
        gap = missing(expected, e["params"], "")
        if gap:
            found.append(f"{_describe(e)}: {gap}")
    return found


@check("auth_conformance", "every request authenticates (the server recomputes signatures)")
def auth_conformance(ev: Evidence, options: Mapping[str, Any]) -> list[str]:
    c = ev.contract
    ids = {c.triggers[s] for s in c.triggers if s.startswith("auth.")}
    return [
        f"{_describe(e)}: {_told(c, e)}" for e in ev.entries if e.get("error") in ids and not ev.injected(e)
    ]


def _told(contract: Any, entry: Mapping[str, Any]) -> str:
    """The error message the client was told: as the server answered it (a gateway's own
    string-to-sign included, its line feeds shown as ``\\n``), else the row's message without its
    detail."""
    answered = entry.get("error_message")
    if answered:
        return str(answered).strip().replace("\n", "\\n")[:TOLD_SHOWN]
    return str(contract.error(entry["error"]).message.replace("%s", "").strip()[:160])


@check("nonce_uniqueness", "a nonce the vendor requires is never sent twice")
def nonce_uniqueness(ev: Evidence, options: Mapping[str, Any]) -> list[str]:
    header = ev.contract.nonce_header
    if header is None:
        return []
    seen: dict[str, int] = {}
    found = []
    for e in ev.entries:
        value = e["headers"].get(header.lower())
        if value is None:
            continue
        if value in seen:
            found.append(f"{_describe(e)} reuses {header} {value!r} of request #{seen[value]}")
        seen.setdefault(value, e["seq"])
    return found


@check("polls_own_task", "every query names a task this client created")
def polls_own_task(ev: Evidence, options: Mapping[str, Any]) -> list[str]:
    own = set(ev.created)
    return [
        f"{_describe(e)} asks for task {e.get('task_id')!r}, not one the server gave this client"
        for e in ev.entries
        if ev.kind(e) == "query" and ev.task_of(e) not in own and not ev.injected(e)
    ]


@check(
    "poll_pace",
    "polls of one task are at least min_interval apart (default: 0.8 of the job's poll interval)",
    min_interval=None,
)
def poll_pace(ev: Evidence, options: Mapping[str, Any]) -> list[str]:
    least = _pace(ev.job, "poll_interval_seconds", options, "min_interval")
    found = []
    last: dict[str, dict[str, Any]] = {}
    for e in ev.entries:
        if ev.kind(e) != "query":
            continue
        before = last.get(ev.task_of(e) or "")
        calm = before is not None and not before.get("error") and not ev.network(before)
        if calm and e["received"] - before["received"] < least:  # type: ignore[index]
            gap = (e["received"] - before["received"]) * 1000  # type: ignore[index]
            found.append(
                f"{_describe(e)} came {gap:.1f} ms after the previous poll (at least {least * 1000:.0f} ms)"
            )
        last[ev.task_of(e) or ""] = e
    return found[:3]


@check(
    "stops_at_terminal_status",
    "the client polls until a terminal status (or an answer that the vendor does not know the task) and "
    "not after it (where a task's end is answered with a retryable error, as AILabTools does, up to "
    "retries_after_error more polls are retries)",
    retries_after_error=3,
)
def stops_at_terminal_status(ev: Evidence, options: Mapping[str, Any]) -> list[str]:
    found = []
    for task_id in dict.fromkeys(ev.created):
        showing = [
            e for e in ev.entries if ev.task_of(e) == task_id and (e.get("tasks") or ev.kind(e) == "query")
        ]
        ended = next((i for i, e in enumerate(showing) if ev.shows_terminal(e)), None)
        if ended is not None:
            after = [e for e in showing[ended + 1 :] if ev.kind(e) == "query"]
            if _retryable(ev, showing[ended]) and len(after) <= int(options["retries_after_error"]):
                after = []
            if after:
                found.append(f"{len(after)} poll(s) of {task_id} after it showed a terminal status")
    verdict = ev.verdict
    reported = ev.outcome.get("status") if isinstance(ev.outcome, dict) else None
    if reported in ("succeeded", "failed") and not verdict.answered and ev.created:
        last = ev.answers[-1]  # the last answer about the job: another endpoint's answer tells nothing
        if not ev.shows_terminal(last):
            shown = ", ".join(t["status"] for t in last.get("tasks") or []) or "no status"
            found.append(f"the client reported {reported!r}; the last answer about its task showed {shown}")
    return found


@check("task_id_reported", "a task id the outcome gives is the one the server gave for the job")
def task_id_reported(ev: Evidence, options: Mapping[str, Any]) -> list[str]:
    given = ev.outcome.get("task_id") if isinstance(ev.outcome, dict) else None
    if given is None or not ev.created or given == ev.created[-1]:
        return []
    return [f"the outcome names task {given!r}; the server gave {ev.created[-1]!r}"]


@check(
    "within_time_budget",
    "the client reports, and sends its last request, within the job's time_budget_seconds (counted from "
    "the job's start, for a command from its first request; allowance for the last answer and the outcome)",
    allowance=BUDGET_ALLOWANCE,
)
def within_time_budget(ev: Evidence, options: Mapping[str, Any]) -> list[str]:
    budget = float(ev.job["time_budget_seconds"])
    first = min((e["received"] for e in ev.entries), default=ev.returned)
    clock = min(first, ev.started + ev.start_allowance)  # a command's start is not its to spend
    deadline = clock + budget + float(options["allowance"])
    found = []
    late = next((e for e in ev.entries if e["received"] > deadline), None)
    if late is not None:
        into = late["received"] - clock
        found.append(f"{_describe(late)} arrived {into:.2f} s into the job, past its {budget:g} s budget")
    if ev.returned > deadline:
        found.append(
            f"the client reported {ev.returned - clock:.2f} s into the job, past its {budget:g} s budget"
        )
    return found


@check("no_request_after_outcome", "the client sends nothing once it has reported")
def no_request_after_outcome(ev: Evidence, options: Mapping[str, Any]) -> list[str]:
    return [f"{_describe(e)} arrived after the outcome" for e in ev.entries if e["received"] > ev.returned]


@check(
    "success_images_match",
    "on success the outcome lists exactly the result links the server gave (whole: a signed link works "
    "only with its query string)",
)
def success_images_match(ev: Evidence, options: Mapping[str, Any]) -> list[str]:
    verdict = ev.verdict
    outcome = ev.outcome if isinstance(ev.outcome, dict) else {}
    if verdict.status != "succeeded":
        return []
    if outcome.get("status") != "succeeded":
        return [f"every task succeeded, the client reported {outcome.get('status')!r}"]
    seen = (lambda u: u) if verdict.whole else _path  # a server that journals no links: paths

    def differ(got: list[Any], want: list[str], what: str) -> str | None:
        have = [seen(u) for u in got]
        if have == want:
            return None
        why = " (the same paths: the query string, which signs a link, differs)" if verdict.whole else ""
        same_paths = [_path(u) for u in have] == [_path(u) for u in want]
        return f"{what} {have} are not the server's {want}" + (why if same_paths else "")

    gap = differ(outcome.get("images", []), verdict.images, "images")
    if gap:
        return [gap]
    items = outcome.get("items")
    if items is not None:
        want = [verdict.task_images(t) for t in verdict.tasks]
        have = [[seen(u) for u in i.get("images", [])] for i in items]
        if have != want:
            return [f"items' images {have} are not the server's {want}"]
    return []


@check(
    "failure_reported",
    "a vendor error or failed task is reported with the vendor's own code, never as success",
)
def failure_reported(ev: Evidence, options: Mapping[str, Any]) -> list[str]:
    verdict = ev.verdict
    outcome = ev.outcome if isinstance(ev.outcome, dict) else {}
    status = outcome.get("status")
    if status == "succeeded" and verdict.status != "succeeded":
        return [f"the client reported success; the server's verdict is {verdict.status!r}" + _why(verdict)]
    if verdict.status != "failed":
        return []
    if status == "error" and verdict.answered and verdict.row is not None and verdict.row.retryable:
        return []  # it was still retrying when its attempts or its budget ran out
    if status != "failed":
        return [f"the server's verdict is failed{_why(verdict)}; the client reported {status!r}"]
    found = []
    error = outcome.get("error") or {}
    if verdict.row is not None and not names_row(verdict.row, error.get("code")):
        found.append(f"the client reported code {error.get('code')!r}, the vendor's is {verdict.row.code!r}")
    if verdict.answered and "http_status" in error and error["http_status"] != verdict.http_status:
        found.append(
            f"the client reported HTTP {error['http_status']}, the server answered {verdict.http_status}"
        )
    items = outcome.get("items")
    if items is not None and verdict.tasks:
        want = ["succeeded" if t["stage"] == "succeeded" else "failed" for t in verdict.tasks]
        have = [i.get("status") for i in items]
        if have != want:
            found.append(f"items {have} are not the server's {want}")
    return found


@check(
    "error_justified",
    "an outcome 'error' (no vendor verdict) follows a transport failure of the last call about the job, or "
    "the job's time budget spent up to margin (default: a tenth of the budget, or four of the job's poll "
    "intervals or retry backoffs, the longer, if more: a client may stop when its next wait would overrun)",
    margin=None,
)
def error_justified(ev: Evidence, options: Mapping[str, Any]) -> list[str]:
    outcome = ev.outcome if isinstance(ev.outcome, dict) else {}
    if outcome.get("status") != "error" or ev.verdict.status == "transport" or not ev.started:
        return []
    budget = float(ev.job["time_budget_seconds"])
    wait = max(float(ev.job["poll_interval_seconds"]), float(ev.job["retry_backoff_seconds"]))
    margin = float(options["margin"]) if options.get("margin") is not None else max(budget / 10, 4 * wait)
    spent = ev.returned - ev.started
    if spent >= budget - margin:
        return []
    last = ev.answers[-1] if ev.answers else None
    said = f"its last answer about the job was {_describe(last)}" if last else "no answer about the job"
    return [
        f"the client reported 'error' after {spent:.2f} s of its {budget:g} s budget with no transport "
        f"failure ({said})"
    ]


def _why(verdict: Verdict) -> str:
    if verdict.forgotten:
        return " (the vendor answered that it does not know the task: it was forgotten)"
    return f" ({verdict.row.id})" if verdict.row is not None else ""


@check(
    "retryable_retried",
    "a retryable answer (throttling, transient errors) is retried after a backoff of at least min_backoff "
    "(default: 0.8 of the job's retry backoff); a client may give up after give_up_after attempts of one "
    "call, transport failures (a reset, a truncated answer) and retryable answers counted together",
    min_backoff=None,
    give_up_after=3,
)
def retryable_retried(ev: Evidence, options: Mapping[str, Any]) -> list[str]:
    least = _pace(ev.job, "retry_backoff_seconds", options, "min_backoff")
    found = []
    attempts = 0
    for i, e in enumerate(ev.entries):
        row = ev.row(e)
        before = ev.entries[i - 1] if i else None
        failed = before is not None and (_retryable(ev, before) or ev.network(before) is not None)
        again = failed and _same_call(ev, before, e)  # type: ignore[arg-type]
        attempts = attempts + 1 if again else 1
        if row is None or not row.retryable or ev.shows_terminal(e) or ev.kind(e) not in ("submit", "query"):
            continue
        after = ev.entries[i + 1] if i + 1 < len(ev.entries) else None
        if after is None or not _same_call(ev, e, after):
            if attempts < int(options["give_up_after"]):
                found.append(f"{_describe(e)} is retryable and was not retried (attempt {attempts})")
        elif after["received"] - e["received"] < least:
            gap = (after["received"] - e["received"]) * 1000
            found.append(f"{_describe(e)} was retried after {gap:.1f} ms (at least {least * 1000:.0f} ms)")
    return found


def _retryable(ev: Evidence, entry: Mapping[str, Any]) -> bool:
    row = ev.row(entry)
    return row is not None and row.retryable


def _same_call(ev: Evidence, a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    if ev.kind(a) != ev.kind(b):
        return False
    return ev.kind(a) == "submit" or ev.task_of(a) == ev.task_of(b)


@check("non_retryable_not_retried", "an answer that is not retryable is not sent again")
def non_retryable_not_retried(ev: Evidence, options: Mapping[str, Any]) -> list[str]:
    for i, e in enumerate(ev.entries):
        row = ev.row(e)
        if row is None or row.retryable or ev.kind(e) not in ("submit", "query"):
            continue
        again = [later for later in ev.entries[i + 1 :] if _same_call(ev, e, later)]
        if again:
            return [f"{_describe(e)} is not retryable; the client sent it again ({len(again)} more)"]
    return []
