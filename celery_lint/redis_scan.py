"""A read-only look at a live Redis result backend: how many stored Celery results, how big, how long they live.

For `celery-lint report --redis URL`. Only read-only commands run: DBSIZE, SCAN (never KEYS, which blocks the
server for the whole keyspace) and, on a bounded sample, MEMORY USAGE, PTTL and GET, pipelined per batch.
`redis` is an optional dependency (`pip install 'celery-lint[redis]'`), imported only when a scan runs.
"""
from __future__ import annotations

import json
import random
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional
from urllib.parse import urlsplit

META_PREFIX = b"celery-task-meta-"
GROUP_PREFIX = b"celery-taskset-meta-"  # group results (GroupResult.save) and a chord's join keys
SCAN_PATTERN = "celery-task*-meta-*"  # one SCAN matches both prefixes
TTL_BUCKETS = ("no expiry", "< 1 h", "1-6 h", "6-24 h", "> 24 h")
MAX_VALUE_BYTES = 1 << 20  # a bigger value is measured but not read: one huge GET is no way to sample
PIPELINE_BYTES = 16 << 20  # at most this much in the answers of one pipeline of GETs
UNKNOWN_TASK = "(unknown)"  # per-task row of sampled results without a readable name
NOT_READ = object()  # the value of a key too large to GET
INSTALL_HINT = "pip install 'celery-lint[redis]'"
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
    complete: bool  # SCAN reached cursor 0 (else stopped at max_keys)
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

    def to_dict(self) -> dict:
        return asdict(self)


def mask_url(url: str) -> str:
    """The URL with its password (and a ?password= value) replaced by '***'.

    A user-info part without ':' is masked whole: redis://SECRET@host is a common way to write a password.
    """
    def userinfo(match):
        user, colon, _ = match.group(2).partition(":")
        return f"{match.group(1)}{user + ':***' if colon else '***'}@"

    # Greedy, up to the last '@' before any query: an unencoded '@' or '/' in a password stays hidden too.
    url = re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^?#]*)@", userinfo, url)
    return re.sub(r"([?&]password=)[^&#]*", r"\g<1>***", url, flags=re.IGNORECASE)


def scan_results(url: str, sample: int = 1000, max_keys: int = 1_000_000, batch: int = 1000,
                 timeout: float = 5.0) -> KeyspaceScan:
    """Count and measure the stored results in the database of ``url``; inspect at most ``sample`` of them."""
    shown = mask_url(url)
    for name, value, least in (("sample", sample, 0), ("max_keys", max_keys, 1), ("batch", batch, 1)):
        if value < least:
            raise RedisScanError(f"{name} must be at least {least}, got {value}")
    try:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry
    except ImportError:
        raise RedisScanError(f"the redis client is not installed: {INSTALL_HINT}") from None
    try:
        db = _database(url)
        # No retries: a refused or silent server is reported at once, not after a round of backoffs.
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                      retry=Retry(NoBackoff(), 0))
    except ValueError as exc:
        raise RedisScanError(f"invalid Redis URL {shown!r}: {_line(exc)} (expected redis://[[user]:password@]"
                             f"host[:port][/db], rediss://... or unix://path?db=N)") from exc
    try:
        with client:
            db_keys = client.dbsize()
            scanned, complete, meta_keys, group_keys, chosen = _scan(client, sample, max_keys, batch)
            tally = _Tally()
            for start in range(0, len(chosen), batch):
                _inspect(client, chosen[start:start + batch], tally)
    except redis.RedisError as exc:
        raise RedisScanError(_describe(redis, exc, url, shown, timeout)) from exc
    return tally.summary(url=shown, scanned=scanned, complete=complete, meta_keys=meta_keys,
                         group_keys=group_keys, db=db, db_keys=db_keys, max_keys=max_keys)


def _database(url: str) -> int:
    """The db number of the URL, as redis-py reads it (?db= first); it would quietly use 0 for redis://host/celery."""
    parts = urlsplit(url)
    in_query = re.search(r"(?:^|&)db=([^&]*)", parts.query)
    in_path = "" if parts.scheme == "unix" else parts.path.strip("/")  # a unix URL's path is the socket
    text = (in_query.group(1) if in_query else in_path) or "0"
    if not text.isdigit():
        raise ValueError(f"the database must be a number, got {text!r}")
    return int(text)


def _scan(client, sample: int, max_keys: int, batch: int):
    """SCAN until cursor 0 or max_keys keys; keep a uniform sample of the meta keys (reservoir, algorithm R).

    SCAN may return a key twice if the keyspace is resized meanwhile; counts can be a hair high then.
    """
    rng = random.Random(SEED)
    chosen: List[bytes] = []
    scanned = meta_keys = group_keys = cursor = 0
    while True:
        cursor, keys = client.scan(cursor, match=SCAN_PATTERN, count=batch)
        kept = keys[:max_keys - scanned]
        scanned += len(kept)
        for key in kept:
            if key.startswith(GROUP_PREFIX):
                group_keys += 1
            elif key.startswith(META_PREFIX):
                meta_keys += 1
                if len(chosen) < sample:
                    chosen.append(key)
                else:
                    slot = rng.randrange(meta_keys)
                    if slot < sample:
                        chosen[slot] = key
        if cursor == 0 and len(kept) == len(keys):
            return scanned, True, meta_keys, group_keys, chosen
        if scanned >= max_keys:
            return scanned, False, meta_keys, group_keys, chosen


def _inspect(client, keys: List[bytes], tally: "_Tally") -> None:
    """MEMORY USAGE and PTTL of a batch in one pipeline, then GET the values that are not too big."""
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.memory_usage(key)
        pipe.pttl(key)
    answers = pipe.execute(raise_on_error=False)
    measured = []
    for key, size, pttl in zip(keys, answers[0::2], answers[1::2]):
        for answer in (size, pttl):
            if isinstance(answer, Exception):
                raise answer  # e.g. NOPERM: the user may not run MEMORY USAGE
        if size is None or pttl == -2:
            tally.vanished += 1
        else:
            measured.append((key, size, pttl))
    values = {}
    readable = [(key, size) for key, size, _ in measured if size <= MAX_VALUE_BYTES]
    for group in _by_bytes(readable, PIPELINE_BYTES):
        pipe = client.pipeline(transaction=False)
        for key, _ in group:
            pipe.get(key)
        values.update(zip((key for key, _ in group), pipe.execute(raise_on_error=False)))
    for key, size, pttl in measured:
        value = values.get(key, NOT_READ)
        if value is None:
            tally.vanished += 1  # gone between MEMORY USAGE and GET
        elif isinstance(value, Exception) and "WRONGTYPE" not in str(value):
            raise value
        else:
            tally.add(size, pttl, value)


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
        self.unrecognised = self.too_large = self.named = 0
        self.ttl = Counter()
        self.statuses = Counter()
        self.tasks: Dict[str, List[int]] = {}  # name -> [keys, bytes, null results]

    def add(self, size: int, pttl: int, value) -> None:
        self.sampled += 1
        self.sample_bytes += size
        self.ttl[_ttl_bucket(pttl)] += 1
        meta = None if value is NOT_READ else _meta(value)
        if value is NOT_READ:
            self.too_large += 1  # its result is taken as not null: a null result is a small value
        elif meta is None:
            self.unrecognised += 1
        else:
            self.statuses[str(meta["status"])] += 1
            self.null_results += meta["result"] is None
        name = meta.get("name") if meta else None
        self.named += isinstance(name, str)
        row = self.tasks.setdefault(name if isinstance(name, str) else UNKNOWN_TASK, [0, 0, 0])
        row[0] += 1
        row[1] += size
        row[2] += meta is not None and meta["result"] is None

    def summary(self, url, scanned, complete, meta_keys, group_keys, db, db_keys, max_keys) -> KeyspaceScan:
        scale = meta_keys / self.sampled if self.sampled else 0.0
        extended = self.named > 0
        per_task = sorted((TaskKeys(name, round(keys * scale), round(size * scale), round(nulls * scale))
                           for name, (keys, size, nulls) in self.tasks.items()),
                          key=lambda t: (-t.keys, -t.bytes, t.name)) if extended else []
        notes = []
        if meta_keys == 0:
            notes.append(f"no celery-task-meta-* keys in database {db} ({db_keys:,} keys in all): is this the "
                         f"result backend's database? The db number is the path of the URL "
                         f"(redis://host:6379/1 is database 1)")
        if not complete:
            notes.append(f"the scan stopped at max_keys ({max_keys:,} keys) before the end of the keyspace: the "
                         f"counts and bytes are lower bounds; raise it (--max-keys) to count everything")
        if self.sampled and not extended and self.unrecognised + self.too_large < self.sampled:
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
        return KeyspaceScan(
            url=url, scanned=scanned, complete=complete, meta_keys=meta_keys, group_keys=group_keys,
            sampled=self.sampled, sample_bytes=self.sample_bytes, estimated_bytes=round(self.sample_bytes * scale),
            ttl={bucket: self.ttl[bucket] for bucket in TTL_BUCKETS}, null_results=self.null_results,
            result_extended=extended, per_task=per_task, vanished=self.vanished, notes=notes, db=db,
            db_keys=db_keys, statuses=dict(self.statuses.most_common()), unrecognised=self.unrecognised,
            too_large=self.too_large,
        )


def _line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _describe(redis, exc: Exception, url: str, shown: str, timeout: float) -> str:
    """One line saying what went wrong and what to do (redis-py's messages name no password)."""
    detail = _line(exc)
    if isinstance(exc, redis.AuthenticationError):
        given = urlsplit(url)
        if given.username is None and given.password is None and not re.search(r"[?&]password=", url, re.I):
            return f"{shown}: the server wants a password; put it in the URL (redis://:PASSWORD@host:port/db)"
        return f"{shown}: authentication failed: wrong user or password ({detail})"
    if isinstance(exc, redis.TimeoutError):
        return f"{shown}: no answer within {timeout:g} s ({detail})"
    if isinstance(exc, redis.ConnectionError):
        return f"cannot connect to {shown}: {detail}"
    if "NOPERM" in detail or isinstance(exc, getattr(redis.exceptions, "NoPermissionError", ())):
        return (f"{shown}: the user may not run a command the scan needs ({detail}); "
                f"it needs DBSIZE, SCAN, MEMORY USAGE, PTTL and GET (ACL: +@read)")
    return f"{shown}: {detail}"
