"""An Audit as a terminal table, as Markdown (to paste into a pull request), or as JSON.

JSON, version 1 (every key is always present; a value we cannot tell is null; "dynamic" stands for a setting
written in a way celery-lint cannot evaluate)::

    {"version": 1, "projects": [{
      "root": "/abs/path",
      "tasks": [{
        "name": str, "qualname": str, "path": str, "line": int, "kind": "function" | "class" | "registration",
        "verdict": "read" | "unread" | "maybe" | "unused" | "ignored" | "ignored-but-read" | "unknown" | "no-backend",
        "reason": str, "stores": bool | null, "finding": "CEL001" | "CEL002" | null, "fixable": bool,
        "enqueued": {"count": int, "kinds": {kind: int},
                     "sites": [{"at": "path:line", "kind": str, "outcome": "discarded" | "id" | "escapes" | "read",
                                "detail": str, "ignore_result": bool | "dynamic" | null}]},
        "reads": ["path:line (detail)"],
        "returns_value": bool | null,
        "ignore_result": {"value": bool | "dynamic", "source": "decorator" | "class" | "base" | "global" |
                          "call-site" | "annotations" | "default", "detail": str},
        "savings_per_1000_runs": null | {"keys": int, "commands": int, "bytes_low": int, "bytes_high": int},
        "live": null | {"keys": int, "bytes": int, "null_results": int}}],
      "totals": {"tasks": int, "stored": int, "read": int, "unread": int, "maybe": int, "unused": int, "ignored": int,
                 "ignored-but-read": int, "unknown": int, "no-backend": int},
      "config": {"backend": {"state": "configured" | "absent" | "unknown", "at": str | null, "env": str | null,
                             "evidence": str | null},
                 "result_expires": {"seconds": int | null, "never": bool, "known": bool, "at": str | null},
                 "task_ignore_result": {"value": bool | "dynamic", "at": str | null, "env": str | null},
                 "result_extended": {"value": bool | "dynamic", "at": str | null},
                 "task_annotations_at": str | null},
      "fix": {"tasks": int, "runs_each": 1000, "keys": int, "commands": int, "bytes_low": int, "bytes_high": int},
      "expiry": {"staying": [name], "options": [{"seconds": int, "current": bool, "keys_alive_per_run_per_second": int,
                                                 "bytes_low": int, "bytes_high": int}]},
      "expiry_advice": {"seconds": int | null, "largest_timeout": float | null, "waits": ["path:line"],
                        "retired_keys_per_runs_a_day": float | null, "runs_a_day": 1000, "formula": str,
                        "why_not": [str]},
      "measured": {"by": "bench/redis_key_size.py", "memory_usage": {...}, "used_memory": {...}},
      "errors": [str], "notes": [str],
      "live": null | {"url", "db", "scanned", "complete", "meta_keys", "group_keys", "sampled", "estimated_bytes",
                      "ttl": {bucket: int}, "null_results", "null_share": float | null, "result_extended", "vanished",
                      "notes": [str], "tasks": [{"name", "keys", "bytes", "null_results", "verdict": str | null}],
                      "by_verdict": {verdict or "not in this project": {"tasks", "keys", "bytes"}}}}]}

``"at"`` is ``path:line`` relative to the root; a null ``at`` on a setting means Celery's default.
"""
from __future__ import annotations

import json
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from ..text import printable
from ..types import DYNAMIC
from . import costs
from .audit import Audit, Configuration, Status, TaskAudit
from .expiry_advice import advice_dict, advice_lines
from .live import NOT_HERE, Live

JSON_VERSION = 1
NONE = "-"
LEGEND = ("RETURNS: value; None on every path (the stored result only says it ran); ? can't tell. "
          "SAVES: Redis bytes that ignore_result=True saves.")


# ----- numbers -----

def count(n: int) -> str:
    return f"{n:,}"


def size(n: float) -> str:
    """Decimal units, three significant digits: 296 KB, 1.1 MB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            value = n / scale
            return f"{value:.0f} {unit}" if value >= 100 else f"{value:.1f} {unit}".replace(".0 ", " ")
    return f"{n:.0f} B"


def size_range(low: int, high: int) -> str:
    if low == high:
        return size(low)
    low_text, high_text = size(low), size(high)
    if low_text.split()[1] == high_text.split()[1]:
        return f"{low_text.split()[0]}–{high_text}"
    return f"{low_text}–{high_text}"


def duration(seconds: int) -> str:
    """86,400 s is "24 h" (as Celery's docs say it); days from two on."""
    for unit, scale in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= scale * (2 if unit == "d" else 1) and seconds % scale == 0:
            return f"{seconds // scale} {unit}"
    return f"{seconds:,} s"


def value_text(value: object) -> str:
    return "dynamic" if value == DYNAMIC else str(value)


# ----- what every format says the same way -----

def returns_text(value: Optional[bool]) -> str:
    return {True: "value", False: "None", None: "?"}[value]


def kinds_text(task: TaskAudit) -> str:
    return ", ".join(f"{kind} ×{n}" if n > 1 else kind for kind, n in task.enqueue_kinds.items()) or NONE


def enqueued_text(task: TaskAudit) -> str:
    return f"{len(task.sites)}: {kinds_text(task)}" if task.sites else "0"


def ignore_text(task: TaskAudit) -> str:
    return f"{value_text(task.ignore.value)} ({task.ignore.source})"


def saves_text(task: TaskAudit) -> str:
    return size_range(task.savings.bytes_low, task.savings.bytes_high) if task.savings else NONE


def reads_text(task: TaskAudit) -> str:
    if not task.reads:
        return NONE
    more = f" +{len(task.reads) - 1}" if len(task.reads) > 1 else ""
    return task.reads[0] + more


def totals_line(audit: Audit) -> str:
    by = audit.totals.by_status
    line = (f"{audit.totals.tasks} tasks; {audit.totals.stored} store their results: {by['read']} read, "
            f"{by['unread']} unread, {by['maybe']} maybe, {by['unused']} never enqueued here")
    others = [(by[str(Status.IGNORED)], "ignore their results"), (by[str(Status.IGNORED_BUT_READ)],
              "ignored but read (CEL002)"), (by[str(Status.UNKNOWN)], "can't tell"),
              (by[str(Status.NO_BACKEND)], "without a result backend")]
    shown = [f"{n} {what}" for n, what in others if n]
    return line + (f"; {', '.join(shown)}" if shown else "")


def config_rows(config: Configuration) -> List[Tuple[str, str, str]]:
    """(setting, value, where it comes from)."""
    default = "Celery's default"
    backend_from = config.backend_at or NONE
    if config.backend_more:  # several places set one (weblate: settings_example.py, settings_docker.py)
        backend_from += f" +{config.backend_more}"
    if config.backend_evidence:
        backend_from = config.backend_evidence
    if config.backend_env:
        backend_from += f", unless ${config.backend_env} sets it"
    if config.expires is None:
        expires = "never expires" if config.expires_known else "dynamic"
    else:
        expires = f"{config.expires:,} s ({duration(config.expires)})"
    ignore_from = config.global_ignore_at or default
    if config.global_ignore_env:
        ignore_from += f", unless ${config.global_ignore_env} sets it"
    rows = [
        ("result backend", config.backend, backend_from),
        ("result_expires", expires, config.expires_at or default),
        ("task_ignore_result", value_text(config.global_ignore), ignore_from),
        ("result_extended", value_text(config.extended), config.extended_at or default),
    ]
    if config.annotations_at:
        rows.append(("task_annotations", "may set ignore_result", config.annotations_at))
    return rows


def fix_lines(audit: Audit) -> List[str]:
    unread = [t for t in audit.tasks if t.status is Status.UNREAD]
    if not unread:
        return ["No unread task: nothing to save."]
    keep = f"each kept {duration(audit.config.expires)}" if audit.config.expires else "each kept until deleted"
    per = unread[0].savings
    lines = [f"Per {count(costs.RUNS)} runs of one unread task: {count(per.keys)} celery-task-meta keys fewer "
             f"({keep}), {count(per.commands)} Redis commands fewer (SETEX + PUBLISH), and the bytes in the table."]
    fix = audit.fix_savings
    lines.append(f"All {len(unread)} unread tasks, {count(costs.RUNS)} runs each: {count(fix.keys)} keys, "
                 f"{count(fix.commands)} commands, {size_range(fix.bytes_low, fix.bytes_high)}.")
    return lines


def expiry_sentence(audit: Audit) -> str:
    staying = len(audit.staying)
    return (f"{staying} task{'s' if staying != 1 else ''} keep storing their results after the fix; keys alive ≈ "
            f"runs per second × result_expires")


def expiry_rows(audit: Audit) -> List[Tuple[str, str, str, str]]:
    """(result_expires, keys alive for one run per second, memory, compared with now); none when no task stays
    stored after the fix, or result_expires cannot be read."""
    if not audit.staying:
        return []
    current = next((o for o in audit.expiry if o.current), None)
    rows = []
    if audit.config.expires is None and audit.config.expires_known:
        rows.append(("never (now)", "grows forever", "grows forever", ""))
    for option in audit.expiry:
        label = f"{duration(option.seconds)}{' (now)' if option.current else ''}"
        ratio = f"÷{current.seconds / option.seconds:g}" if current and not option.current else ""
        rows.append((label, count(option.alive.keys), size_range(option.alive.bytes_low, option.alive.bytes_high),
                     ratio))
    return rows


def live_by_status(live: Live) -> str:
    parts = [f"{status}: {count(k.keys)} keys, {size(k.bytes)} ({k.tasks} task{'s' if k.tasks != 1 else ''})"
             for status, k in live.by_status.items()]
    return "; ".join(parts) or NONE


def ttl_text(live: Live) -> str:
    return " · ".join(f"{bucket} {count(n)}" for bucket, n in live.ttl.items())


def null_text(live: Live) -> str:
    return NONE if live.null_share is None else f"{live.null_share:.0%} of {count(live.sampled)} sampled keys"


# ----- terminal -----

def table(audits: Sequence[Audit], shown_root: Callable[[Audit], str]) -> str:
    return "\n\n".join(_table(audit, shown_root(audit)) for audit in audits) + "\n"


def _columns(rows: List[Sequence[str]], right: Sequence[int] = ()) -> List[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(cells).rstrip())
    return lines


def _table(audit: Audit, root: str) -> str:
    out = [f"celery-lint report: {printable(root)}", totals_line(audit)]
    if audit.tasks:
        out.append("")
        rows = [("TASK", "VERDICT", "ENQUEUED", "READ AT", "RETURNS", "IGNORE_RESULT",
                 f"SAVES /{count(costs.RUNS)} RUNS")]
        rows += [(printable(t.name), str(t.status), enqueued_text(t), printable(reads_text(t)),
                  returns_text(t.returns_value), ignore_text(t), saves_text(t)) for t in audit.tasks]
        out += _columns(rows)
        out += ["", LEGEND, "", "Where"]
        for t in audit.tasks:
            sites = ", ".join(f"{s.at} {s.kind}" for s in t.sites) or "never enqueued here"
            out.append(f"  {printable(t.name)} ({printable(t.path)}:{t.line}) <- {printable(sites)}")
        doubts = [t for t in audit.tasks if t.status in (Status.MAYBE, Status.UNKNOWN)]
        if doubts:
            out += ["", "Why not sure"]
            out += [f"  {printable(t.name)}: {printable(t.reason if t.status is Status.MAYBE else t.ignore.detail)}"
                    for t in doubts]
    out += ["", "Configuration"]
    out += ["  " + line for line in _columns([(s, v, printable(f)) for s, v, f in config_rows(audit.config)])]
    out += ["", "What the fix saves (ignore_result=True on the unread tasks)"]
    out += ["  " + line for line in fix_lines(audit)]
    expiry = expiry_rows(audit)
    if expiry:
        out += ["", f"Lowering result_expires: {expiry_sentence(audit)}"]
        rows = [("result_expires", "keys alive per run/s", "memory", "")] + expiry
        out += ["  " + line for line in _columns(rows, right=(1,))]
    if audit.expiry_advice is not None:
        out += ["", "result_expires advice"]
        out += ["  " + line for line in advice_lines(audit.expiry_advice, audit.config.expires, duration)]
    if audit.live is not None:
        out += ["", *_live_table(audit.live)]
    if audit.errors:
        out += ["", "Files not analysed (tasks they mention are 'maybe')"]
        out += [f"  {printable(e)}" for e in audit.errors]
    out += ["", "Notes"] + [f"  - {note}" for note in audit.notes]
    return "\n".join(out)


def _live_table(live: Live) -> List[str]:
    complete = "scan complete" if live.complete else "scan stopped early: lower bounds"
    rows = [
        ("result keys", f"{count(live.meta_keys)} celery-task-meta ({complete}), ≈ {size(live.estimated_bytes)}; "
                        f"{count(live.group_keys)} group keys"),
        ("TTL (sample)", ttl_text(live)),
        ("null results", null_text(live)),
        ("by verdict", live_by_status(live) if live.result_extended else "keys do not name their task"),
    ]
    out = [f"Live: {printable(live.url)} (db {live.db})"] + ["  " + line for line in _columns(rows)]
    if live.tasks:
        rows = [(printable(t.name), t.status or NOT_HERE, f"{count(t.keys)} keys", size(t.bytes)) for t in live.tasks]
        out += ["  per task"] + ["    " + line for line in _columns(rows, right=(2, 3))]
    out += [f"  - {printable(note)}" for note in live.notes]
    return out


# ----- Markdown -----

def _md(text: str) -> str:
    """Plain text in a Markdown table or list: a '|' would end the cell, a '<id>' would vanish as an HTML tag."""
    return printable(text).replace("|", "\\|").replace("<", "&lt;")


def _code(text: str) -> str:
    text = printable(text)
    return f"`{text}`" if "`" not in text else text.replace("|", "\\|")


def _md_table(header: Sequence[str], rows: List[Sequence[str]], right: Sequence[int] = ()) -> List[str]:
    lines = ["| " + " | ".join(header) + " |",
             "| " + " | ".join("---:" if i in right else "---" for i in range(len(header))) + " |"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def markdown(audits: Sequence[Audit], shown_root: Callable[[Audit], str]) -> str:
    return "\n\n".join(_markdown(audit, shown_root(audit)) for audit in audits) + "\n"


def _markdown(audit: Audit, root: str) -> str:
    out = [f"## celery-lint report: {_code(root)}", "", _md(totals_line(audit)) + "."]
    if audit.tasks:
        rows = []
        for t in audit.tasks:
            sites = ", ".join(f"{_code(s.at)} {s.kind}" for s in t.sites) or NONE
            reads = ", ".join(_code(r) for r in t.reads) or NONE
            verdict = f"**{t.status}**" if t.status is Status.UNREAD else str(t.status)
            rows.append((f"{_code(t.name)}<br>{_code(f'{t.path}:{t.line}')}", verdict, sites, reads,
                         returns_text(t.returns_value), ignore_text(t), saves_text(t)))
        out += [""] + _md_table(("task", "verdict", "enqueued at", "read at", "returns", "ignore_result",
                                 f"saves per {count(costs.RUNS)} runs"), rows, right=(6,))
        out += ["", _md(LEGEND)]
        doubts = [t for t in audit.tasks if t.status in (Status.MAYBE, Status.UNKNOWN)]
        if doubts:
            out += ["", "Why not sure:", ""]
            out += [f"- {_code(t.name)}: {_md(t.reason if t.status is Status.MAYBE else t.ignore.detail)}"
                    for t in doubts]
    out += ["", "### Configuration", ""]
    out += _md_table(("setting", "value", "from"),
                     [(_code(s), _md(v), _md(f)) for s, v, f in config_rows(audit.config)])
    out += ["", "### What the fix saves", ""] + [_md(line) for line in fix_lines(audit)]
    expiry = expiry_rows(audit)
    if expiry:
        out += ["", "### Lowering result_expires", "", _md(expiry_sentence(audit)) + ".", ""]
        out += _md_table(("result_expires", "keys alive per run/s", "memory", ""), expiry, right=(1, 2))
    if audit.expiry_advice is not None:
        out += ["", "### result_expires advice", ""]
        out += [_md(line) for line in advice_lines(audit.expiry_advice, audit.config.expires, duration)]
    if audit.live is not None:
        out += ["", *_live_markdown(audit.live)]
    if audit.errors:
        out += ["", "### Files not analysed", ""] + [f"- {_md(e)}" for e in audit.errors]
    out += ["", "### Notes", ""] + [f"- {_md(note)}" for note in audit.notes]
    return "\n".join(out)


def _live_markdown(live: Live) -> List[str]:
    complete = "scan complete" if live.complete else "scan stopped early: lower bounds"
    out = [f"### Live: {_code(live.url)} (db {live.db})", ""]
    out += _md_table(("measure", "found"), [
        ("result keys", f"{count(live.meta_keys)} ({complete}), ≈ {size(live.estimated_bytes)}; "
                        f"{count(live.group_keys)} group keys"),
        ("TTL (sample)", ttl_text(live)),
        ("null results", null_text(live)),
        ("by verdict", _md(live_by_status(live)) if live.result_extended else "keys do not name their task"),
    ])
    if live.tasks:
        out += [""] + _md_table(("task", "verdict", "keys", "bytes"), [
            (_code(t.name), t.status or NOT_HERE, count(t.keys), size(t.bytes)) for t in live.tasks], right=(2, 3))
    if live.notes:
        out += [""] + [f"- {_md(note)}" for note in live.notes]
    return out


# ----- JSON -----

def to_json(audits: Sequence[Audit]) -> str:
    return json.dumps({"version": JSON_VERSION, "projects": [audit_dict(a) for a in audits]}, indent=2,
                      ensure_ascii=False) + "\n"


def _json_value(value: object) -> object:
    return "dynamic" if value == DYNAMIC else value


def _cost(cost) -> Optional[Dict[str, int]]:
    if cost is None:
        return None
    return {"keys": cost.keys, "commands": cost.commands, "bytes_low": cost.bytes_low, "bytes_high": cost.bytes_high}


def audit_dict(audit: Audit) -> dict:
    live_by_name = {t.name: t for t in audit.live.tasks} if audit.live is not None else {}
    config = audit.config
    unread = sum(1 for t in audit.tasks if t.status is Status.UNREAD)
    return {
        "root": str(audit.root),
        "tasks": [_task_dict(t, live_by_name.get(t.name)) for t in audit.tasks],
        "totals": {"tasks": audit.totals.tasks, "stored": audit.totals.stored, **audit.totals.by_status},
        "config": {
            "backend": {"state": config.backend, "at": config.backend_at, "env": config.backend_env,
                        "evidence": config.backend_evidence and config.backend_evidence},
            "result_expires": {"seconds": config.expires, "never": config.expires is None and config.expires_known,
                               "known": config.expires_known, "at": config.expires_at},
            "task_ignore_result": {"value": _json_value(config.global_ignore), "at": config.global_ignore_at,
                                   "env": config.global_ignore_env},
            "result_extended": {"value": _json_value(config.extended), "at": config.extended_at},
            "task_annotations_at": config.annotations_at,
        },
        "fix": {"tasks": unread, "runs_each": costs.RUNS, **_cost(audit.fix_savings)},
        "expiry": {"staying": audit.staying, "options": [
            {"seconds": o.seconds, "current": o.current, "keys_alive_per_run_per_second": o.alive.keys,
             "bytes_low": o.alive.bytes_low, "bytes_high": o.alive.bytes_high} for o in audit.expiry]},
        "measured": {"by": costs.MEASURED_BY,
                     "memory_usage": {"small": costs.SMALL[False], "small_extended": costs.SMALL[True],
                                      "typical": costs.TYPICAL[False], "typical_extended": costs.TYPICAL[True]},
                     "used_memory": {"small": costs.USED_MEMORY_SMALL[False],
                                     "small_extended": costs.USED_MEMORY_SMALL[True],
                                     "typical": costs.USED_MEMORY_TYPICAL[False],
                                     "typical_extended": costs.USED_MEMORY_TYPICAL[True]}},
        "expiry_advice": advice_dict(audit.expiry_advice) if audit.expiry_advice is not None else None,
        "errors": audit.errors,
        "notes": audit.notes,
        "live": _live_dict(audit.live) if audit.live is not None else None,
    }


def _task_dict(task: TaskAudit, live) -> dict:
    return {
        "name": task.name, "qualname": task.qualname, "path": task.path, "line": task.line, "kind": task.kind,
        "verdict": str(task.status), "reason": task.reason, "stores": task.stores, "finding": task.finding,
        "fixable": task.fixable,
        "enqueued": {"count": len(task.sites), "kinds": task.enqueue_kinds, "sites": [
            {"at": s.at, "kind": s.kind, "outcome": s.outcome, "detail": s.detail,
             "ignore_result": _json_value(s.ignore_result)} for s in task.sites]},
        "reads": task.reads,
        "returns_value": task.returns_value,
        "ignore_result": {"value": _json_value(task.ignore.value), "source": task.ignore.source,
                          "detail": task.ignore.detail},
        "savings_per_1000_runs": _cost(task.savings),
        "live": {"keys": live.keys, "bytes": live.bytes, "null_results": live.null_results} if live else None,
    }


def _live_dict(live: Live) -> dict:
    return {
        "url": live.url, "db": live.db, "scanned": live.scanned, "complete": live.complete,
        "meta_keys": live.meta_keys, "group_keys": live.group_keys, "sampled": live.sampled,
        "estimated_bytes": live.estimated_bytes, "ttl": live.ttl, "null_results": live.null_results,
        "null_share": live.null_share, "result_extended": live.result_extended, "vanished": live.vanished,
        "notes": live.notes,
        "tasks": [{"name": t.name, "keys": t.keys, "bytes": t.bytes, "null_results": t.null_results,
                   "verdict": t.status} for t in live.tasks],
        "by_verdict": {status: {"tasks": k.tasks, "keys": k.keys, "bytes": k.bytes}
                       for status, k in live.by_status.items()},
    }
