"""What one stored result costs in Redis, and the arithmetic the report does with it.

The numbers were measured by ``bench/redis_key_size.py`` (redis-server 7.0.15, Celery 5.7.0, a real worker,
1,000 runs per row): every run of a task that stores its result writes one ``celery-task-meta-<id>`` key, whose
``MEMORY USAGE`` was the same for every key of a row:

    task returns             result_extended=False   result_extended=True
    None, an int                    296 B                   424 B
    a 10-key dict (~300 B JSON)     616 B                   744 B

``INFO used_memory`` grew by 351-372 B per key for None/int (479-500 B extended), 671 B (799 B) for the dict: the
key's own bytes plus allocator and buffer overhead. The report uses ``MEMORY USAGE``, the smaller and steadier
figure, so its savings are a floor. With result_extended the key also holds the task's args and kwargs, so
real keys grow with them.

The key's TTL is ``result_expires`` (86,400 s when unset, measured by the same script). Celery's Redis backend
writes it with one pipeline of SETEX and PUBLISH (``RedisBackend._set``): two commands per run.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

MEASURED_BY = "bench/redis_key_size.py"
DEFAULT_EXPIRES = 86_400  # Celery's result_expires when unset: one day
COMMANDS_PER_RUN = 2  # SETEX + PUBLISH
RUNS = 1_000  # savings are given per this many runs of a task

# MEMORY USAGE of one key, by result_extended
SMALL = {False: 296, True: 424}  # the task returns None or an int
TYPICAL = {False: 616, True: 744}  # the task returns a 10-key dict
# INFO used_memory growth per key (for the notes: what the server as a whole pays)
USED_MEMORY_SMALL = {False: 372, True: 500}
USED_MEMORY_TYPICAL = {False: 671, True: 799}

SHORTER_EXPIRES = (3_600, 600)  # what lowering result_expires is shown for: one hour, ten minutes


@dataclass(frozen=True)
class Cost:
    """What some number of stored results cost: keys, commands, and bytes as a range (low..high)."""

    keys: int
    commands: int
    bytes_low: int
    bytes_high: int


def key_bytes(returns_value: Optional[bool], extended: object) -> Tuple[int, int]:
    """Bytes of one key as (low, high). A task that returns None stores a small value; one that returns
    something (or may) stores anything from a small value to a typical dict. A result_extended we cannot read
    (``DYNAMIC``) spans both settings."""
    low_extended, high_extended = extended is True, extended is not False
    high = SMALL[high_extended] if returns_value is False else TYPICAL[high_extended]
    return SMALL[low_extended], high


def runs_cost(runs: int, per_key: Tuple[int, int]) -> Cost:
    """What ``runs`` runs store: one key each."""
    return Cost(runs, runs * COMMANDS_PER_RUN, runs * per_key[0], runs * per_key[1])


def alive_per_run_per_second(expires: int, per_key: Tuple[int, int]) -> Cost:
    """Keys alive at steady state for one run per second: each lives ``expires`` seconds, so ``expires`` of
    them exist at any time (the commands are what one second of runs sends)."""
    return Cost(expires, COMMANDS_PER_RUN, expires * per_key[0], expires * per_key[1])


def shorter_expires(current: Optional[int]) -> List[int]:
    """The settings worth showing below the current one (all of them when results never expire)."""
    return [s for s in SHORTER_EXPIRES if current is None or s < current]
