"""What a real Redis holds (``redis_scan.KeyspaceScan``), joined with the audit's verdicts by registered task name.

The scan names a key's task only when results are stored with result_extended; without it there is no join,
only totals. The scan object is read by attribute (this module never imports redis_scan: ``--redis`` is
optional, and the scan may come from anywhere that fills the same fields).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

from .audit import Audit

NOT_HERE = "not in this project"  # a task name the project does not define (another app, a renamed task...)


@dataclass
class LiveTask:
    name: str  # as stored in the key ("(unknown)" for keys without a readable name)
    keys: int  # estimated, over the whole keyspace
    bytes: int
    null_results: int
    status: Optional[str]  # the audit's verdict for the project's task of that name; None: NOT_HERE


@dataclass
class StatusKeys:
    tasks: int = 0
    keys: int = 0
    bytes: int = 0


@dataclass
class Live:
    url: str  # password masked by the scan
    db: int
    scanned: int
    complete: bool
    meta_keys: int
    group_keys: int
    sampled: int
    estimated_bytes: int
    ttl: Dict[str, int]  # sampled keys per TTL bucket
    null_results: int  # sampled keys whose result is null
    result_extended: bool  # the keys name their task: the per-task join is possible
    vanished: int
    notes: List[str]
    tasks: List[LiveTask] = field(default_factory=list)
    by_status: Dict[str, StatusKeys] = field(default_factory=dict)  # audit verdict (or NOT_HERE) -> totals

    @property
    def null_share(self) -> Optional[float]:
        return self.null_results / self.sampled if self.sampled else None


def join(audit: Audit, scan) -> Live:
    """``scan``: a redis_scan.KeyspaceScan. Sets ``audit.live`` and returns it."""
    by_name = {task.name: str(task.status) for task in audit.tasks}
    tasks = [LiveTask(row.name, row.keys, row.bytes, getattr(row, "null_results", 0), by_name.get(row.name))
             for row in scan.per_task]
    by_status: Dict[str, StatusKeys] = {}
    for task in tasks:
        totals = by_status.setdefault(task.status or NOT_HERE, StatusKeys())
        totals.tasks += 1
        totals.keys += task.keys
        totals.bytes += task.bytes
    audit.live = Live(
        url=scan.url, db=getattr(scan, "db", 0), scanned=scan.scanned, complete=scan.complete,
        meta_keys=scan.meta_keys, group_keys=scan.group_keys, sampled=scan.sampled,
        estimated_bytes=scan.estimated_bytes, ttl=dict(scan.ttl), null_results=scan.null_results,
        result_extended=scan.result_extended, vanished=scan.vanished, notes=list(scan.notes), tasks=tasks,
        by_status=dict(sorted(by_status.items(), key=lambda kv: -kv[1].keys)),
    )
    return audit.live
