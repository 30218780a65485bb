#!/usr/bin/env python
"""Time and peak memory of celery-lint on one large file, per shape and size: is it linear, and bounded?

    python bench/big_inputs.py                         # every shape at its default sizes
    python bench/big_inputs.py --shapes lines,semicolons --sizes 0.25,1   # sizes in MB of the big file
    python bench/big_inputs.py --plain                 # the plain path too (every file whole, no slicing)

Each input is a two-file project: ``shop/tasks.py`` defines ``ping``, ``shop/big.py`` is the generated file.
Each run is ``celery-lint --no-cache -q --exit-zero`` in a child of a fresh helper process, so the helper's
``getrusage(RUSAGE_CHILDREN).ru_maxrss`` is the peak RSS of the largest process of that run alone (the CLI or
its worker). Prints seconds and MB, and both per MB of input: flat columns mean linear time and memory.
Never asserts: the machine is shared and times are noisy.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TASKS = "from celery import shared_task\n\n\n@shared_task\ndef ping():\n    return None\n"
HEAD = "from shop.tasks import ping\n\n"


def _repeat_to(unit: str, size: int, head: str = HEAD, tail: str = "\n") -> str:
    return head + unit * max(1, (size - len(head)) // len(unit)) + tail


# Each shape: (MB of source -> the big file's text). The quadratic ones grow one statement or one expression.
SHAPES = {
    "lines": lambda size: _repeat_to("ping.delay()\n", size, tail=""),  # one call per line
    "calls": lambda size: _repeat_to(".delay()", size, HEAD + "x = ping"),  # x = ping.delay().delay()...
    "attributes": lambda size: _repeat_to(".b", size, HEAD + "ping.delay()\nx = y"),  # one attribute chain
    "unary": lambda size: _repeat_to("-", size, HEAD + "x = ", "ping.delay()\n"),  # x = ----ping.delay()
    "semicolons": lambda size: _repeat_to("x = ping.delay(); ", size),  # all on one line
}
DEFAULT_SIZES = {  # MB: where the old code took from seconds to minutes, and 1 MB where it could
    "lines": (0.25, 1.0),
    "calls": (0.008, 0.016, 0.032),
    "attributes": (0.03, 0.06, 0.12),
    "unary": (0.016, 0.032, 0.064),
    "semicolons": (0.1, 0.2, 0.4),
}


def write_project(root: Path, shape: str, megabytes: float) -> int:
    (root / "shop").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'big'\n")
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "tasks.py").write_text(TASKS)
    text = SHAPES[shape](int(megabytes * 1_000_000))
    (root / "shop" / "big.py").write_text(text)
    return len(text)


def measure_once(root: Path, plain: bool) -> dict:
    """Run in a fresh helper process: the CLI as its only child, so RUSAGE_CHILDREN is that run's alone."""
    command = [sys.executable, "-m", "celery_lint", "--no-cache", "-q", "--exit-zero", "."]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if plain:  # the engine's plain path: every file whole, no slicing, no cache
        command = [sys.executable, "-c", "from pathlib import Path; from celery_lint import config, engine; "
                   "r = engine.analyse_root(Path('.'), config.load(Path('.')), use_cache=False, speed=False); "
                   "print(len(r.findings), [e.message for e in r.errors])"]
    started = time.monotonic()
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, env=env)
    seconds = time.monotonic() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"seconds": seconds, "peak_mb": peak_kb / 1024, "out": done.stdout.strip()[-300:],
            "err": done.stderr.strip()[-300:], "rc": done.returncode}


def measure(shape: str, megabytes: float, plain: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="celery-lint-big-") as tmp:
        size = write_project(Path(tmp), shape, megabytes)
        helper = subprocess.run([sys.executable, __file__, "--measure-in", tmp] + (["--plain"] if plain else []),
                                capture_output=True, text=True, check=True)
    return {"size": size, **json.loads(helper.stdout)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--sizes", default="", help="MB of the big file, comma-separated (default: per shape)")
    parser.add_argument("--plain", action="store_true", help="also the plain path (engine speed=False)")
    parser.add_argument("-v", action="store_true", help="print each run's output")
    parser.add_argument("--measure-in", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_in:
        print(json.dumps(measure_once(Path(args.measure_in), args.plain)))
        return
    print(f"{'shape':<11} {'path':<5} {'MB in':>7} {'time':>8} {'peak':>8} {'s/MB':>8} {'peak MB/MB':>10}")
    for shape in args.shapes.split(","):
        sizes = [float(s) for s in args.sizes.split(",")] if args.sizes else DEFAULT_SIZES[shape]
        for path in ("fast", "plain") if args.plain else ("fast",):
            for megabytes in sizes:
                found = measure(shape, megabytes, path == "plain")
                mb = found["size"] / 1_000_000
                print(f"{shape:<11} {path:<5} {mb:>7.3f} {found['seconds']:>7.2f}s {found['peak_mb']:>6.0f}MB "
                      f"{found['seconds'] / mb:>8.2f} {found['peak_mb'] / mb:>10.0f}", flush=True)
                if args.v or found["rc"] not in (0,):
                    print(f"    rc={found['rc']} out={found['out']!r} err={found['err']!r}")


if __name__ == "__main__":
    main()
