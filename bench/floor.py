#!/usr/bin/env python
"""How fast can a cold run be while LibCST does the analysis? A lower bound per project, next to flake8.

Any cold run of an analysis built on LibCST pays at least, per project:
  start     a Python interpreter that imports LibCST (`python -c "import libcst"`, median)
  parse     LibCST's parse of exactly the text celery-lint hands it (the sliced relevant files), summed on
            one core and divided by the number of cores (perfect parallelism)
It leaves out everything else a run does (finding and reading the files, Python's own parse for slicing,
the walk, linking, the rules), so the real cold time can only be higher. Printed next to
`flake8 --select F -j2` (without the celery-lint plugin, as in speed.py) and the 0.1x budget.

    python bench/floor.py --corpus /work/corpus              # all projects (about a minute, flake8 included)
    python bench/floor.py --corpus /work/corpus --no-flake8
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import speed  # noqa: E402  (bench/speed.py: the flake8 peer, corpus helpers)


def start_seconds(repeat: int = 5) -> float:
    """A fresh interpreter importing LibCST, median wall time."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import libcst"], check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def parsed_texts(project: Path) -> list:
    """The texts a cold celery-lint run hands LibCST (sliced sources), captured from the engine itself."""
    from celery_lint import config, engine
    from celery_lint.speed import slicing

    texts = []
    real_slice = slicing.slice_source

    def capture(source, keep):
        result = real_slice(source, keep)
        texts.append(result.source)
        return result

    slicing.slice_source = capture  # looked up at call time by speed/parallel.py
    try:
        engine.analyse_root(project, config.load(project), use_cache=False, jobs=1)  # in this process
    finally:
        slicing.slice_source = real_slice
    return texts


def parse_seconds(texts: list, repeat: int = 3) -> float:
    import libcst

    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for text in texts:
            try:
                libcst.parse_module(text)
            except Exception:  # noqa: BLE001  (a slicing fallback re-parses the whole file; not counted)
                pass
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=speed.REPO / ".corpus")
    parser.add_argument("--projects", default="", help="comma-separated names (with or without -VERSION)")
    parser.add_argument("--no-flake8", action="store_true")
    args = parser.parse_args()
    speed.ensure_corpus(args.corpus)
    projects = speed.projects_in(args.corpus, [p for p in args.projects.split(",") if p])
    cores = os.cpu_count() or 1
    start = start_seconds()
    rows, totals = [], {"lines": 0, "parse": 0.0, "floor": 0.0, "flake8": 0.0}
    with tempfile.TemporaryDirectory(prefix="celery-lint-floor-") as tmp:
        run = speed.Runner(1, Path(tmp), False)
        for project in projects:
            texts = parsed_texts(project)
            lines = sum(text.count(b"\n") for text in texts)
            parse = parse_seconds(texts) / cores
            floor = start + parse
            flake8 = None if args.no_flake8 else run.median(run.flake8_peer("--select", "F", "-j2", project))[0]
            rows.append([project.name, len(texts), lines, f"{start:.2f}s", f"{parse:.2f}s", f"{floor:.2f}s",
                         speed.fmt(flake8), f"{floor / flake8:.3f}x" if flake8 else "-"])
            totals["lines"] += lines
            totals["parse"] += parse
            totals["floor"] += floor
            totals["flake8"] += flake8 or 0
    t = totals
    rows.append(["TOTAL", "", t["lines"], f"{start * len(projects):.2f}s", f"{t['parse']:.2f}s", f"{t['floor']:.2f}s",
                 speed.fmt(t["flake8"]) if t["flake8"] else "-", f"{t['floor'] / t['flake8']:.3f}x" if t["flake8"] else "-"])
    print(speed.table(["project", "texts", "lines", "start", f"parse/{cores}", "floor", "flake8 -j2", "floor/f8"], rows))
    if t["flake8"]:
        print(f"\nbudget 0.1x of flake8 = {0.1 * t['flake8']:.2f}s; LibCST's floor alone = {t['floor']:.2f}s "
              f"({t['floor'] / t['flake8']:.3f}x): interpreter + LibCST import {start * len(projects):.2f}s, "
              f"parsing the sliced text {t['parse']:.2f}s")
    print(f"(python {sys.version.split()[0]}, {cores} cores; start = python -c 'import libcst', median of 5; "
          f"parse = best of 3 on one core / {cores})")


if __name__ == "__main__":
    main()
