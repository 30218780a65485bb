#!/usr/bin/env python
"""The editor case: an unsaved buffer on stdin that differs from the file on disk, checked by flake8.

    python bench/flake8_stdin.py --corpus /work/corpus --projects nautobot,weblate,mayan-edms

For each project (a temp copy: the corpus is never written to) and its task module (``speed.task_module``), after
one priming run that fills the cache, the two commands take turns (``--repeat`` runs each, default 7):

  CEL  flake8 --select CEL --stdin-display-name FILE -    (the buffer: the file with a comment line appended)
  F    flake8 --select F   --stdin-display-name FILE -    (the same buffer; the plugin installed, not selected)

then the same with a line typed above the module's first task (``above a task``: every line below it moves),

and the same for a module without any Celery token ("other file": what most edits in a project are).

and it prints their medians and the ratio CEL/F (budget: 1.5x). Also ``E501 off``: ``flake8 --select E501 FILE``
with the plugin installed against the same without it (issue 22: the plugin must cost nothing when not selected).
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import (FLAKE8_WITHOUT_CEL, REPO, compile_celery_lint, ensure_corpus, projects_in,  # noqa: E402
                   task_decorator_line, task_module, tool)

BUDGET = 1.5


def timed(cmd, cwd: Path, stdin: bytes = b"") -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def taking_turns(first, second, repeat: int) -> tuple:
    """Medians of two zero-argument timers run alternately, ``repeat`` times each."""
    a, b = [], []
    for _ in range(repeat):
        a.append(first())
        b.append(second())
    return statistics.median(a), statistics.median(b)


def bench(project: Path, work: Path, repeat: int, shim: Path) -> dict:
    copy = work / project.name
    shutil.copytree(project, copy, symlinks=True)
    if not any((copy / m).exists() for m in ("pyproject.toml", "setup.cfg", "setup.py", ".git", "manage.py")):
        (copy / "setup.cfg").write_text("")  # a root marker: the copy is the project
    relative = str(task_module(copy).relative_to(copy))
    buffer = (copy / relative).read_bytes() + b"\n# edited in the editor, not saved\n"
    flake8 = tool("flake8")
    # An answer is never kept within the clock's tick of a change (speed.answers): not by the run that copies
    # the project, nor by the first run (it makes the cache directory, which changes the root's stamp).
    for _ in range(2):
        time.sleep(2.5)
        subprocess.run([flake8, "--select", "CEL", relative], cwd=copy, capture_output=True)  # primes the cache

    def stdin(select, text=buffer):
        return lambda: timed([flake8, "--select", select, "--stdin-display-name", relative, "-"], copy, text)

    cel, f = taking_turns(stdin("CEL"), stdin("F"), repeat)
    lines = (copy / relative).read_bytes().splitlines(keepends=True)
    above = task_decorator_line(copy / relative)
    indent = lines[above][:len(lines[above]) - len(lines[above].lstrip())]
    typed = b"".join([*lines[:above], indent + b"# typed above the task, not saved\n", *lines[above:]])
    above_cel, above_f = taking_turns(stdin("CEL", typed), stdin("F", typed), repeat)
    other = plain_module(copy)
    other_buffer = (copy / other).read_bytes() + b"\n# edited in the editor, not saved\n"

    def other_stdin(select):
        return lambda: timed([flake8, "--select", select, "--stdin-display-name", other, "-"], copy, other_buffer)

    other_cel, other_f = taking_turns(other_stdin("CEL"), other_stdin("F"), repeat)
    with_plugin, without = taking_turns(lambda: timed([flake8, "--select", "E501", relative], copy),
                                        lambda: timed([sys.executable, str(shim), "--select", "E501", relative], copy),
                                        repeat)
    return {"project": project.name, "file": relative, "cel": cel, "f": f, "above_cel": above_cel, "above_f": above_f, "e501": with_plugin, "e501_bare": without,
            "other": other, "other_cel": other_cel, "other_f": other_f}


def plain_module(project: Path) -> str:
    """A module of the project that mentions no Celery token (most of a project): the common edit."""
    sys.path.insert(0, str(REPO))
    from celery_lint.speed.prefilter import mentions_celery

    for path in sorted(project.rglob("*.py")):
        if "test" not in str(path) and path.stat().st_size > 2000 and not mentions_celery(path.read_bytes()):
            return str(path.relative_to(project))
    return str(next(iter(sorted(project.rglob("*.py")))).relative_to(project))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=REPO / ".corpus")
    parser.add_argument("--projects", default="", help="comma-separated names (with or without -VERSION)")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    ensure_corpus(args.corpus)
    compile_celery_lint()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        shim = Path(work) / "flake8_without_cel.py"
        shim.write_text(FLAKE8_WITHOUT_CEL)
        for project in projects_in(args.corpus, [p for p in args.projects.split(",") if p]):
            rows.append(bench(project, Path(work), args.repeat, shim))
            r = rows[-1]
            print(f"{r['project']:40s} CEL {r['cel']:5.2f}s  F {r['f']:5.2f}s  CEL/F {r['cel'] / r['f']:5.2f}x  "
                  f"E501 {r['e501']:5.2f}s  E501 without plugin {r['e501_bare']:5.2f}s  ({r['file']})", flush=True)
            print(f"{'':40s} above a task: CEL {r['above_cel']:5.2f}s  F {r['above_f']:5.2f}s  "
                  f"CEL/F {r['above_cel'] / r['above_f']:5.2f}x", flush=True)
            print(f"{'':40s} other file: CEL {r['other_cel']:5.2f}s  F {r['other_f']:5.2f}s  "
                  f"CEL/F {r['other_cel'] / r['other_f']:5.2f}x  ({r['other']})", flush=True)
    cel, f = sum(r["cel"] for r in rows), sum(r["f"] for r in rows)
    print(f"{'all':40s} CEL {cel:5.2f}s  F {f:5.2f}s  CEL/F {cel / f:5.2f}x  budget <= {BUDGET}x  "
          f"{'ok' if cel / f <= BUDGET else 'OVER'}")


if __name__ == "__main__":
    main()
