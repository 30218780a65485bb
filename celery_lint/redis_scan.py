"""A read-only look at a live Redis result backend: how many stored Celery results, how big, how long they live.

For `celery-lint report --redis URL`. Only read-only commands run: DBSIZE, SCAN (never KEYS, which blocks the
server for the whole keyspace) and, on a bounded sample, MEMORY USAGE, PTTL and GET, pipelined per batch. The
client is ``redis_wire`` (which refuses any other command), the URL is read and masked by ``redis_url``.
Bounds: one deadline for the whole scan, a byte cap on every reply, at most max_keys keys and max_keys SCAN calls.
"""
from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Tuple

from .redis_url import EXPECTED, UrlError, mask_url, parse as parse_url
from .redis_wire import (AuthFailed, BadReply, Clock, ConnectFailed, DeadlinePassed, ReplyError, WireError,
                         connect)
from .text import printable

__all__ = ["KeyspaceScan", "RedisScanError", "TaskKeys", "mask_url", "scan_results"]

META_PREFIX = b"celery-task-meta-"
GROUP_PREFIX = b"celery-taskset-meta-"  # group results (GroupResult.save) and a chord's join keys
SCAN_PATTERN = "celery-task*-meta-*"  # one SCAN matches both prefixes
TTL_BUCKETS = ("no expiry", "< 1 h", "1-6 h", "6-24 h", "> 24 h")
MAX_VALUE_BYTES = 1 << 20  # a bigger value is measured but not read: one huge GET is no way to sample
PIPELINE_BYTES = 16 << 20  # at most this much in the answers of one pipeline of GETs
DEADLINE_S = 300.0  # the whole scan; --deadline
UNKNOWN_TASK = "(unknown)"  # per-task row of sampled results without a readable name
NOT_READ = object()  # the value of a key too large (or of unknown size) to GET
STOPPED_AT_KEYS = "max_keys"
STOPPED_AT_CALLS = "scan_calls"
SERVER_TEXT_CHARS = 200  # of an error reply quoted to the user
SEED = 0  # the same keyspace gives the same sample


class RedisScanError(Exception):
    """The scan could not run; str() is one line for the user."""


@dataclass(frozen=True)
class TaskKeys:
    name: str
    keys: int  # estimated keys of this task in the whole keyspace (sample share x total)
    bytes: int  # estimated bytes
    null_results: int = 0  # estimated keys of this task whose stored result is null


@dataclass(frozen=True)
class KeyspaceScan:
    url: str  # as given, with any password replaced by '***'
    scanned: int  # keys the SCAN returned (its MATCH covers both prefixes)
    complete: bool  # SCAN reached cursor 0 (else stopped at max_keys keys or SCAN calls: see stopped)
    meta_keys: int  # celery-task-meta-* keys seen by the scan
    group_keys: int  # celery-taskset-meta-* (group/chord results), counted separately
    sampled: int  # keys inspected with MEMORY USAGE / PTTL / GET (that still existed)
    sample_bytes: int
    estimated_bytes: int  # meta_keys x mean sampled bytes
    ttl: Dict[str, int]  # over the sample, bucketed as TTL_BUCKETS; a fresh key of the default 1 day is "6-24 h"
    null_results: int  # sampled keys whose stored "result" is null
    result_extended: bool  # sampled values carry the task "name" (Celery's result_extended)
    per_task: List[TaskKeys]  # only when result_extended; most keys first
    vanished: int  # keys that expired/were deleted between SCAN and inspection (counted, not an error)
    notes: List[str]  # user-facing hints
    db: int = 0  # the database number scanned
    db_keys: int = 0  # every key of that database (DBSIZE), Celery's or not
    statuses: Dict[str, int] = field(default_factory=dict)  # sampled results by "status" (SUCCESS, FAILURE, ...)
    unrecognised: int = 0  # sampled values that are not Celery JSON result meta
    too_large: int = 0  # sampled values over MAX_VALUE_BYTES: measured, not read
    unmeasured: int = 0  # sampled keys whose MEMORY USAGE was no non-negative integer: bytes unknown, not read
    scan_calls: int = 0
    stopped: str = ""  # why an incomplete scan stopped: STOPPED_AT_KEYS or STOPPED_AT_CALLS

    def to_dict(self) -> dict:
        return asdict(self)


def scan_results(url: str, sample: int = 1000, max_keys: int = 1_000_000, batch: int = 1000,
                 timeout: float = 5.0, deadline: float = DEADLINE_S) -> KeyspaceScan:
    """Count and measure the stored results in the database of ``url``; inspect at most ``sample`` of them.

    ``timeout`` bounds each wait for the server, ``deadline`` the whole scan (seconds).
    """
    shown = mask_url(url)
    _check_bounds(sample=(sample, 0), max_keys=(max_keys, 1), batch=(batch, 1))
    if not deadline > 0:
        raise RedisScanError(f"deadline must be more than 0 s, got {deadline:g}")
    try:
        target = parse_url(url)
    except UrlError as exc:
        raise RedisScanError(f"invalid Redis URL {shown!r}: {exc} ({EXPECTED})") from None
    try:
        with connect(target, Clock(timeout, deadline)) as connection:
            db_keys = _dbsize(connection)
            walk = _scan(connection, sample, max_keys, batch)
            tally = _Tally()
            for start in range(0, len(walk.chosen), batch):
                _inspect(connection, walk.chosen[start:start + batch], tally)
    except (WireError, ReplyError) as exc:
        raise RedisScanError(_describe(exc, target, shown)) from None
    return tally.summary(url=shown, walk=walk, db=target.db, db_keys=db_keys, max_keys=max_keys)


def _check_bounds(**bounds) -> None:
    for name, (value, least) in bounds.items():
        if value < least:
            raise RedisScanError(f"{name} must be at least {least}, got {value}")


def _dbsize(connection) -> int:
    answer = connection.call("DBSIZE")
    if not _is_count(answer):
        raise BadReply("not a non-negative integer", "DBSIZE")
    return answer


def _is_count(answer) -> bool:
    return isinstance(answer, int) and not isinstance(answer, bool) and answer >= 0


@dataclass
class _Walk:
    """What the SCAN loop saw; ``stopped`` says why it ended early ("" when it reached cursor 0)."""

    rng: random.Random
    chosen: List[bytes] = field(default_factory=list)
    scanned: int = 0
    calls: int = 0
    meta_keys: int = 0
    group_keys: int = 0
    stopped: str = ""  # "", STOPPED_AT_KEYS or STOPPED_AT_CALLS

    def add(self, keys: List[bytes], sample: int) -> None:
        """Count the keys; keep a uniform sample of the meta keys (reservoir, algorithm R)."""
        self.scanned += len(keys)
        for key in keys:
            if key.startswith(GROUP_PREFIX):
                self.group_keys += 1
            elif key.startswith(META_PREFIX):
                self.meta_keys += 1
                if len(self.chosen) < sample:
                    self.chosen.append(key)
                else:
                    slot = self.rng.randrange(self.meta_keys)
                    if slot < sample:
                        self.chosen[slot] = key


def _scan(connection, sample: int, max_keys: int, batch: int) -> _Walk:
    """SCAN until cursor 0, max_keys keys, or max_keys SCAN calls (a keyspace of other keys is no reason to
    walk on forever, nor is a server whose cursor never comes back to 0).

    SCAN may return a key twice if the keyspace is resized meanwhile; counts can be a hair high then.
    """
    walk = _Walk(random.Random(SEED))
    cursor = 0
    while True:
        cursor, keys = _scan_reply(connection.call("SCAN", cursor, "MATCH", SCAN_PATTERN, "COUNT", batch))
        walk.calls += 1
        kept = keys[:max_keys - walk.scanned]
        walk.add(kept, sample)
        if cursor == 0 and len(kept) == len(keys):
            return walk
        if walk.scanned >= max_keys or walk.calls >= max_keys:
            walk.stopped = STOPPED_AT_KEYS if walk.scanned >= max_keys else STOPPED_AT_CALLS
            return walk


def _scan_reply(reply) -> Tuple[int, List[bytes]]:
    """(cursor, keys) of a SCAN reply; BadReply naming what is wrong with it."""
    if not (isinstance(reply, list) and len(reply) == 2 and isinstance(reply[1], list)):
        raise BadReply("not a [cursor, keys] array", "SCAN")
    cursor, keys = reply
    if not (isinstance(cursor, bytes) and cursor.isdigit() and len(cursor) <= 20):
        raise BadReply("a cursor that is not a number", "SCAN")
    if not all(isinstance(key, bytes) for key in keys):
        raise BadReply("keys that are not all strings", "SCAN")
    return int(cursor), keys


def _inspect(connection, keys: List[bytes], tally: "_Tally") -> None:
    """MEMORY USAGE and PTTL of a batch in one pipeline, then GET the values that are not too big."""
    answers = connection.pipeline([command for key in keys for command in (("MEMORY", "USAGE", key), ("PTTL", key))])
    measured = []
    for key, size, pttl in zip(keys, answers[0::2], answers[1::2]):
        for answer in (size, pttl):
            if isinstance(answer, ReplyError):
                raise answer  # e.g. NOPERM: the user may not run MEMORY USAGE
        if not isinstance(pttl, int):
            raise BadReply("not an integer", "PTTL")
        if size is None or pttl == -2:
            tally.vanished += 1
        else:
            measured.append((key, size if _is_count(size) else None, pttl))  # None: a size we cannot trust
    values = _values(connection, [(key, size) for key, size, _ in measured
                                  if size is not None and size <= MAX_VALUE_BYTES])
    for key, size, pttl in measured:
        value = values.get(key, NOT_READ)
        if value is None:
            tally.vanished += 1  # gone between MEMORY USAGE and GET
        elif isinstance(value, ReplyError) and value.code != "WRONGTYPE":
            raise value
        else:
            tally.add(size, pttl, value)


def _values(connection, readable) -> dict:
    """GET of each (key, size), pipelined in groups of at most PIPELINE_BYTES."""
    values = {}
    for group in _by_bytes(readable, PIPELINE_BYTES):
        replies = connection.pipeline([("GET", key) for key, _ in group])
        values.update(zip((key for key, _ in group), replies))
    return values


def _by_bytes(items, limit: int):
    """Consecutive groups of (key, size) whose sizes add up to at most ``limit`` (or one item)."""
    group, total = [], 0
    for item in items:
        if group and total + item[1] > limit:
            yield group
            group, total = [], 0
        group.append(item)
        total += item[1]
    if group:
        yield group


def _meta(value) -> Optional[dict]:
    """The Celery result meta stored in ``value``, or None (another serializer, compression, another app)."""
    if not isinstance(value, bytes):
        return None  # a hash or list named like a result key
    try:
        meta = json.loads(value)
    except (ValueError, RecursionError):
        return None
    return meta if isinstance(meta, dict) and "status" in meta and "result" in meta else None


def _ttl_bucket(pttl_ms: int) -> str:
    if pttl_ms < 0:
        return "no expiry"
    hours = pttl_ms / 3_600_000
    if hours < 1:
        return "< 1 h"
    if hours < 6:
        return "1-6 h"
    return "6-24 h" if hours <= 24 else "> 24 h"  # a fresh key of result_expires=1 day is 6-24 h


class _Tally:
    """What the sample showed, key by key; summary() scales it to the whole keyspace."""

    def __init__(self):
        self.sampled = self.sample_bytes = self.null_results = self.vanished = 0
        self.unrecognised = self.too_large = self.unmeasured = self.named = 0
        self.ttl = Counter()
        self.statuses = Counter()
        self.tasks: Dict[str, List[int]] = {}  # name -> [keys, bytes, null results]

    def add(self, size: Optional[int], pttl: int, value) -> None:
        """One sampled key: ``size`` None when MEMORY USAGE gave no usable answer (then ``value`` is NOT_READ)."""
        self.sampled += 1
        self.sample_bytes += size or 0
        self.unmeasured += size is None
        self.ttl[_ttl_bucket(pttl)] += 1
        meta = None if value is NOT_READ else _meta(value)
        if value is NOT_READ:
            self.too_large += size is not None  # its result is taken as not null: a null result is a small value
        elif meta is None:
            self.unrecognised += 1
        else:
            self.statuses[str(meta["status"])] += 1
            self.null_results += meta["result"] is None
        name = meta.get("name") if meta else None
        self.named += isinstance(name, str)
        row = self.tasks.setdefault(name if isinstance(name, str) else UNKNOWN_TASK, [0, 0, 0])
        row[0] += 1
        row[1] += size or 0
        row[2] += meta is not None and meta["result"] is None

    def summary(self, url, walk: _Walk, db, db_keys, max_keys) -> KeyspaceScan:
        meta_keys = walk.meta_keys
        scale = meta_keys / self.sampled if self.sampled else 0.0
        measured = self.sampled - self.unmeasured
        byte_scale = meta_keys / measured if measured else 0.0  # keys of unknown size: as big as the others
        extended = self.named > 0
        per_task = sorted((TaskKeys(name, round(keys * scale), round(size * byte_scale), round(nulls * scale))
                           for name, (keys, size, nulls) in self.tasks.items()),
                          key=lambda t: (-t.keys, -t.bytes, t.name)) if extended else []
        return KeyspaceScan(
            url=url, scanned=walk.scanned, complete=not walk.stopped, meta_keys=meta_keys,
            group_keys=walk.group_keys, sampled=self.sampled, sample_bytes=self.sample_bytes,
            estimated_bytes=round(self.sample_bytes * byte_scale),
            ttl={bucket: self.ttl[bucket] for bucket in TTL_BUCKETS}, null_results=self.null_results,
            result_extended=extended, per_task=per_task, vanished=self.vanished,
            notes=self._scope_notes(walk, db, db_keys, max_keys) + self._sample_notes(extended), db=db,
            db_keys=db_keys, statuses=dict(self.statuses.most_common()), unrecognised=self.unrecognised,
            too_large=self.too_large, unmeasured=self.unmeasured, scan_calls=walk.calls, stopped=walk.stopped,
        )

    @staticmethod
    def _scope_notes(walk: _Walk, db: int, db_keys: int, max_keys: int) -> List[str]:
        """What the SCAN covered: the wrong database, or a scan cut short (and which bound cut it)."""
        notes = []
        if walk.meta_keys == 0:
            notes.append(f"no celery-task-meta-* keys in database {db} ({db_keys:,} keys in all): is this the "
                         f"result backend's database? The db number is the path of the URL "
                         f"(redis://host:6379/1 is database 1)")
        if walk.stopped == STOPPED_AT_KEYS:
            notes.append(f"the scan stopped at max_keys ({max_keys:,} keys) before the end of the keyspace: the "
                         f"counts and bytes are lower bounds; raise it (--max-keys) to count everything")
        elif walk.stopped == STOPPED_AT_CALLS:
            notes.append(f"the scan stopped after {walk.calls:,} SCAN calls (--max-keys {max_keys:,} bounds the "
                         f"calls too) before the end of the keyspace, which holds many keys that are not results: "
                         f"the counts and bytes are lower bounds; raise --max-keys to count everything")
        return notes

    def _sample_notes(self, extended: bool) -> List[str]:
        """What the sampled values could not tell."""
        notes = []
        if self.sampled and not extended and self.unrecognised + self.too_large + self.unmeasured < self.sampled:
            notes.append("the stored results do not carry the task name (result_extended is off): for per-task "
                         "figures, set result_extended = True for an hour or so and scan again (it makes every "
                         "stored result bigger, so turn it off afterwards)")
        if self.unrecognised:
            notes.append(f"{self.unrecognised} of {self.sampled} sampled values are not Celery JSON results (a "
                         f"pickle or msgpack result_serializer, result_compression, or another application's "
                         f"keys): they count in bytes only")
        if self.too_large:
            notes.append(f"{self.too_large} of {self.sampled} sampled values are over {MAX_VALUE_BYTES >> 20} MiB: "
                         f"measured but not read (no status, result or task name for them)")
        if self.unmeasured:
            notes.append(f"{self.unmeasured} of {self.sampled} sampled keys got no usable MEMORY USAGE answer (not "
                         f"a number of bytes): their size is unknown, taken as the others' mean, and not read")
        return notes


def _describe(exc: Exception, target, shown: str) -> str:
    """One line saying what went wrong and what to do; text from the server is cut short, escaped (no terminal
    control codes) and never shows the password (a hostile server could echo what AUTH sent)."""
    detail = printable(" ".join(str(exc).split())[:SERVER_TEXT_CHARS]) or type(exc).__name__
    if target.password:
        detail = detail.replace(target.password, "***")
    code = exc.code if isinstance(exc, ReplyError) else ""
    if isinstance(exc, AuthFailed) or (code == "NOAUTH" and target.password is not None):
        return f"{shown}: authentication failed: wrong user or password ({detail})"
    if code == "NOAUTH":
        return f"{shown}: the server wants a password; put it in the URL (redis://:PASSWORD@host:port/db)"
    if code == "NOPERM":
        return (f"{shown}: the user may not run a command the scan needs ({detail}); "
                f"it needs DBSIZE, SCAN, MEMORY USAGE, PTTL and GET (ACL: +@read)")
    if isinstance(exc, ConnectFailed):
        return f"cannot connect to {shown}: {detail}"
    if isinstance(exc, DeadlinePassed):
        return f"{shown}: {detail} (--deadline); give it longer, or scan less with --max-keys"
    return f"{shown}: {detail}"
