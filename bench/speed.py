#!/usr/bin/env python
"""Speed benchmark for celery-lint against flake8 and ruff, measured side by side in the same run.

Prints medians and ratios (never asserts on time): figures on a shared machine are noisy, the ratios
much less so because each peer runs right next to celery-lint on the same files.

    python bench/speed.py --corpus /work/corpus --projects nautobot,weblate,mayan-edms,invenio-indexer,ora2

Figures per project (and summed over projects):
  cold      celery-lint --no-cache -q --exit-zero P        vs  flake8 --select F -j2 P (taking turns)
  warm      celery-lint -q --exit-zero --cache-dir C P      vs  ruff check --select F (cached, taking turns; and --no-cache)
  changed   warm run after appending a comment to one task module (on a temp copy of P): an edit the slicer
            cuts, so the last summary holds with its lines moved
  ch. task  warm run after editing a task's decorator line in that module (a comment added to it): an edit
            of what the summary reads, so LibCST parses the file again
  file      flake8 --select CEL FILE (warm cache)           vs  flake8 --select F FILE
  mem       peak RSS of the cold celery-lint run (largest single process: os.wait4 ru_maxrss)
  scaling   generated projects of 1k/3k/10k files, cold and warm, plus ruff / flake8 on the largest

Peer flake8 runs are "flake8 without the celery-lint plugin": flake8 runs every installed plugin whatever
--select says (it only filters the output), so in this venv a plain `flake8 --select F` would also do the
whole-project celery-lint analysis and write a cache into the project. The peer drops the CEL entry point.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

BUDGETS = {  # figure: (ratio limit, description); each on the corpus as a whole
    "cold": (0.2, "cold celery-lint / flake8 -j2 F"),
    "warm": (8.0, "warm celery-lint / ruff cached"),
    "task": (3.0, "warm after a task edit / warm"),
    "file": (1.5, "flake8 CEL file (warm) / flake8 F file"),
}
MEM_BUDGET_MB = 300
WARM_REPEAT = 5  # warm and ruff's cached runs: a few hundredths of a second each, so more of them

FLAKE8_WITHOUT_CEL = """\
import sys
from flake8.plugins import finder
_find = finder.find_plugins
finder.find_plugins = lambda cfg, opts: [p for p in _find(cfg, opts) if p.package != "celery-lint"]
from flake8.main.cli import main
sys.exit(main())
"""


def tool(name: str) -> str:
    path = BIN / name
    return str(path) if path.exists() else (shutil.which(name) or name)


class Runner:
    def __init__(self, repeat: int, workdir: Path, verbose: bool):
        self.repeat = repeat
        self.verbose = verbose
        self.shim = workdir / "flake8_without_cel.py"
        self.shim.write_text(FLAKE8_WITHOUT_CEL)
        self.celery_lint = tool("celery-lint")
        self.flake8 = tool("flake8")
        self.ruff = tool("ruff")

    def flake8_peer(self, *args) -> list:
        return [sys.executable, str(self.shim), *args]

    def once(self, cmd, ok=(0, 1)) -> tuple:
        """Run cmd once; (seconds, peak RSS in MB of the child)."""
        start = time.perf_counter()
        proc = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        if proc.returncode not in ok:
            print(f"  ! exit {proc.returncode}: {' '.join(map(str, cmd))}\n{err[-2000:]}", file=sys.stderr)
        if self.verbose:
            print(f"    {elapsed:7.3f}s  {' '.join(map(str, cmd))}", file=sys.stderr)
        return elapsed, usage.ru_maxrss / 1024

    def median(self, cmd, repeat=None, before=None, ok=(0, 1)) -> tuple:
        """(median seconds, max peak RSS MB) over `repeat` runs; `before()` runs untimed before each."""
        times, rss = [], 0.0
        for i in range(repeat or self.repeat):
            if before:
                before(i)
            t, m = self.once(cmd, ok)
            times.append(t)
            rss = max(rss, m)
        return statistics.median(times), rss

    def paired(self, ours, peer, repeat: int) -> tuple:
        """(our median seconds, our max peak RSS MB, the peer's median seconds): the two commands take turns,
        ``repeat`` runs each, so a slow patch of the machine falls on both sides of the ratio."""
        ours_times, peer_times, rss = [], [], 0.0
        for _ in range(repeat):
            t, m = self.once(ours)
            ours_times.append(t)
            rss = max(rss, m)
            peer_times.append(self.once(peer)[0])
        return statistics.median(ours_times), rss, statistics.median(peer_times)


def counts(path: Path, cache_dir=None) -> tuple:
    """(files, parsed) from the engine's reports, for the 'which phase dominates' question."""
    code = (
        "import sys; from pathlib import Path; from celery_lint import engine, config\n"
        "c = sys.argv[2]\n"
        "rs = engine.analyse([Path(sys.argv[1])], lambda r: config.load(r), cache_dir=Path(c) if c else None,"
        " use_cache=bool(c))\n"
        "print(sum(r.files for r in rs), sum(r.parsed for r in rs))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path), str(cache_dir or "")],
                         capture_output=True, text=True)
    try:
        files, parsed = out.stdout.split()
        return int(files), int(parsed)
    except ValueError:
        return -1, -1


def task_module(project: Path) -> Path:
    """A task module of the project: a tasks.py defining tasks if there is one, else any file that does."""
    markers = ("shared_task", ".task(", ".task\n", "_task(", "celery_app.task")
    candidates = []
    for path in sorted(project.rglob("*.py")):
        if any(part in ("tests", "test", "migrations") or part.startswith(".") for part in path.parts):
            continue
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        if "@" in text and any(m in text for m in markers):
            candidates.append((path.name != "tasks.py", path))
    if not candidates:
        return next(iter(sorted(project.rglob("*.py"))))
    return min(candidates)[1]


def task_decorator_line(path: Path) -> int:
    """Index of the first decorator line in ``path`` that looks like a task's (no comment yet). Its first line
    even when the call goes on below (``@shared_task(bind=True,``): a comment fits after the parenthesis, and the
    line-only fallback below could pick a line of the module's docstring (ora2), an edit of no task at all."""
    lines = path.read_text().splitlines()
    for index, line in enumerate(lines):
        text = line.strip()
        if text.startswith("@") and "task" in text and "#" not in text:
            return index
    for index, line in enumerate(lines):  # no decorator: a registration such as ``app.task(name=...)(func)``
        if "task" in line and "#" not in line and line.count("(") == line.count(")") and line.strip():
            return index
    return next(i for i, line in enumerate(lines) if line.strip() and "#" not in line)


def ensure_corpus(corpus: Path) -> None:
    if corpus.is_dir() and any(p.is_dir() and not p.name.startswith("_") for p in corpus.iterdir()):
        return
    script = REPO / "tests" / "corpus" / "download.py"
    print(f"corpus {corpus} missing: python {script} {corpus}", file=sys.stderr)
    subprocess.run([sys.executable, str(script), str(corpus)], check=True)


def projects_in(corpus: Path, wanted) -> list:
    found = sorted(p for p in corpus.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    if not wanted:
        return found
    chosen = []
    for name in wanted:
        match = [p for p in found if p.name == name or p.name.rsplit("-", 1)[0] == name]
        if not match:
            sys.exit(f"no project {name!r} in {corpus} (have: {', '.join(p.name for p in found)})")
        chosen += match
    return chosen


def bench_project(run: Runner, project: Path, work: Path, flake8_project: bool) -> dict:
    r = {"name": project.name}
    cl = run.celery_lint
    r["files"], r["parsed"] = counts(project)
    # 1. cold, and 5. its memory; with flake8 -j2 taking turns with it
    cold = [cl, "--no-cache", "-q", "--exit-zero", project]
    if flake8_project:
        r["cold"], r["mem"], r["flake8"] = run.paired(cold, run.flake8_peer("--select", "F", "-j2", project), run.repeat)
    else:
        (r["cold"], r["mem"]), r["flake8"] = run.median(cold), None
    # 2. warm vs ruff's cached run, taking turns (both are short: more runs)
    cache = work / "cl-cache"
    run.once([cl, "-q", "--exit-zero", "--cache-dir", cache, project])
    ruff_cache = work / "ruff-cache"
    ruff = [run.ruff, "check", "--select", "F", "--exit-zero", "--quiet"]
    run.once(ruff + ["--cache-dir", ruff_cache, project])
    r["warm"], _, r["ruff"] = run.paired([cl, "-q", "--exit-zero", "--cache-dir", cache, project],
                                         ruff + ["--cache-dir", ruff_cache, project], max(run.repeat, WARM_REPEAT))
    r["warm_parsed"] = counts(project, cache)[1]
    r["ruff_nc"] = run.median(ruff + ["--no-cache", project])[0]
    # 3. one task module changed, on a copy
    copy = work / "copy" / project.name
    shutil.copytree(project, copy, symlinks=True,
                    ignore=shutil.ignore_patterns(".celery_lint_cache", ".ruff_cache", ".git", "__pycache__"))
    task = task_module(project)
    r["task"] = str(task.relative_to(project))
    copy_task = copy / r["task"]
    copy_cache = work / "cl-cache-copy"
    run.once([cl, "-q", "--exit-zero", "--cache-dir", copy_cache, copy])

    def edit(i):
        with open(copy_task, "a") as handle:
            handle.write(f"# bench edit {i} {time.time()}\n")
        os.utime(copy_task)

    r["changed"] = run.median([cl, "-q", "--exit-zero", "--cache-dir", copy_cache, copy], before=edit)[0]
    edit(-1)
    r["changed_parsed"] = counts(copy, copy_cache)[1]
    decorator = task_decorator_line(copy_task)

    def edit_task(i):
        lines = copy_task.read_text().splitlines(keepends=True)
        lines[decorator] = lines[decorator].rstrip("\r\n").split("  # bench edit")[0] + f"  # bench edit {i}\n"
        copy_task.write_text("".join(lines))

    r["changed_task"] = run.median([cl, "-q", "--exit-zero", "--cache-dir", copy_cache, copy], before=edit_task)[0]
    edit_task(-1)
    r["changed_task_parsed"] = counts(copy, copy_cache)[1]
    # 4. single file, warm cache
    f8_cache = work / "f8-cache"
    cel = [run.flake8, "--select", "CEL", "--celery-lint-cache-dir", f8_cache, task]
    run.once(cel)
    r["file_cel"] = run.median(cel)[0]
    r["file_f"] = run.median(run.flake8_peer("--select", "F", task))[0]
    shutil.rmtree(copy, ignore_errors=True)
    return r


# ---------------------------------------------------------------------------------------------- scaling

PLAIN = '''\
"""Module {i}: helpers for {area}."""
from __future__ import annotations

import dataclasses
import logging
from typing import Dict, List, Optional

from {pkg}.{prev_sub}.m{prev} import helper_{prev}

log = logging.getLogger(__name__)
LIMIT_{i} = {i} % 97 + 3


@dataclasses.dataclass
class Record{i}:
    name: str
    size: int = 0
    tags: List[str] = dataclasses.field(default_factory=list)
    extra: Dict[str, str] = dataclasses.field(default_factory=dict)

    def label(self) -> str:
        base = self.extra.get("label", self.name)
        if self.size > LIMIT_{i}:
            return f"{{base}} (large)"
        return base

    def merge(self, other: "Record{i}") -> "Record{i}":
        tags = sorted(set(self.tags) | set(other.tags))
        extra = dict(self.extra)
        extra.update(other.extra)
        return Record{i}(self.name, self.size + other.size, tags, extra)


def helper_{i}(values: List[int], default: Optional[int] = None) -> int:
    """Sum the values below the limit, or return the default."""
    total = 0
    for value in values:
        if value < LIMIT_{i}:
            total += value
        elif default is not None:
            total += default
    return total


def parse_{i}(rows: List[Dict[str, str]]) -> List[Record{i}]:
    records = []
    for row in rows:
        name = row.get("name")
        if not name:
            log.debug("skipping row without a name: %r", row)
            continue
        size = int(row.get("size", "0") or 0)
        tags = [t.strip() for t in row.get("tags", "").split(",") if t.strip()]
        records.append(Record{i}(name, size, tags, {{k: v for k, v in row.items() if k.startswith("x-")}}))
    return records


def summarise_{i}(records: List[Record{i}]) -> Dict[str, int]:
    summary: Dict[str, int] = {{}}
    for record in records:
        for tag in record.tags or ["untagged"]:
            summary[tag] = summary.get(tag, 0) + record.size
    summary["_total"] = helper_{prev}([r.size for r in records]) + helper_{i}([len(records)])
    return summary


class Service{i}:
    def __init__(self, store: Optional[dict] = None):
        self.store = store if store is not None else {{}}

    def get(self, key: str, default=None):
        return self.store.get(key, default)

    def put(self, key: str, value) -> None:
        log.info("put %s", key)
        self.store[key] = value
'''

TASKS = '''\
"""Task module {i}."""
from celery import shared_task
from celery.result import AsyncResult

from {pkg}.{prev_sub}.m{prev} import helper_{prev}


@shared_task
def send_{i}(user_id: int) -> None:
    helper_{prev}([user_id])


@shared_task(bind=True)
def compute_{i}(self, values):
    return sum(values)


@shared_task(ignore_result=True)
def cleanup_{i}():
    pass


def view_send_{i}(request):
    send_{i}.delay(request.user.id)
    return {{"ok": True}}


def view_compute_{i}(request):
    result = compute_{i}.delay([1, 2, 3])
    return {{"id": result.id, "value": result.get(timeout=5)}}


def view_status_{i}(request):
    cleanup_{i}.apply_async(countdown=10)
    return {{"state": AsyncResult(request.GET.get("id")).state}}
'''


def generate(root: Path, n: int, pkg: str = "genproj") -> Path:
    """A project of n modules in subpackages of 100; every 20th module defines tasks and views."""
    if root.exists():
        shutil.rmtree(root)
    (root / pkg).mkdir(parents=True)
    (root / "pyproject.toml").write_text(f'[project]\nname = "{pkg}"\nversion = "0"\n')
    (root / pkg / "__init__.py").write_text("")
    for i in range(n):
        sub = f"s{i // 100}"
        directory = root / pkg / sub
        if i % 100 == 0:
            directory.mkdir()
            (directory / "__init__.py").write_text("")
        prev = (i - 1 if i % 20 else i + 1) % n  # each module imports a neighbour; task modules a plain one
        template = TASKS if i % 20 == 0 else PLAIN
        text = template.format(i=i, prev=prev, prev_sub=f"s{prev // 100}", pkg=pkg, area=f"area {i % 13}")
        (directory / f"m{i}.py").write_text(text)
    return root


def bench_scaling(run: Runner, sizes, work: Path, flake8_largest: bool) -> list:
    rows = []
    for n in sizes:
        root = generate(work / f"gen{n}", n)
        cl = run.celery_lint
        row = {"n": n}
        row["cold"], row["mem"] = run.median([cl, "--no-cache", "-q", "--exit-zero", root])
        cache = work / f"gen{n}-cache"
        run.once([cl, "-q", "--exit-zero", "--cache-dir", cache, root])
        row["warm"] = run.median([cl, "-q", "--exit-zero", "--cache-dir", cache, root])[0]
        ruff = [run.ruff, "check", "--select", "F", "--exit-zero", "--quiet"]
        row["ruff_nc"] = run.median(ruff + ["--no-cache", root])[0]
        row["flake8"] = None
        if flake8_largest and n == max(sizes):
            row["flake8"] = run.median(run.flake8_peer("--select", "F", "-j2", root), repeat=1)[0]
        rows.append(row)
        shutil.rmtree(root, ignore_errors=True)
    return rows


# ---------------------------------------------------------------------------------------------- output

def fmt(x, unit="s"):
    if x is None:
        return "-"
    return f"{x:.2f}{unit}" if unit == "s" else f"{x:.0f}{unit}"


def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


def table(headers, rows) -> str:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def report(results, scaling, args) -> str:
    out = []
    headers = ["project", "files", "parsed", "cold", "flake8 -j2", "cold/f8", "warm", "ruff $", "ruff nc",
               "warm/ruff$", "changed", "ch. task", "file CEL", "file F", "CEL/F", "mem"]
    rows = []
    total = {k: 0.0 for k in ("files", "parsed", "cold", "flake8", "warm", "ruff", "ruff_nc", "changed",
                              "changed_task", "file_cel", "file_f")}
    have_flake8 = all(r["flake8"] is not None for r in results)
    for r in results:
        rows.append([r["name"], r["files"], r["parsed"], fmt(r["cold"]), fmt(r["flake8"]),
                     f"{r['cold'] / r['flake8']:.3f}x" if r["flake8"] else "-",
                     fmt(r["warm"]), fmt(r["ruff"]), fmt(r["ruff_nc"]), f"{ratio(r['warm'], r['ruff']):.1f}x",
                     fmt(r["changed"]), fmt(r["changed_task"]), fmt(r["file_cel"]), fmt(r["file_f"]),
                     f"{ratio(r['file_cel'], r['file_f']):.2f}x", f"{r['mem']:.0f}MB"])
        for k in total:
            total[k] += r[k] or 0
    mem = max(r["mem"] for r in results)
    t = total
    rows.append(["TOTAL", int(t["files"]), int(t["parsed"]), fmt(t["cold"]), fmt(t["flake8"]) if have_flake8 else "-",
                 f"{t['cold'] / t['flake8']:.3f}x" if have_flake8 else "-", fmt(t["warm"]), fmt(t["ruff"]),
                 fmt(t["ruff_nc"]), f"{t['warm'] / t['ruff']:.1f}x", fmt(t["changed"]), fmt(t["changed_task"]),
                 fmt(t["file_cel"]),
                 fmt(t["file_f"]), f"{t['file_cel'] / t['file_f']:.2f}x", f"{mem:.0f}MB"])
    out.append(table(headers, rows))
    out.append("")
    out.append("(medians of %d runs; cold and flake8 -j2 take turns, as do warm and ruff cached (%d runs each); "
               "'parsed' = files LibCST parsed cold; warm runs parsed %s; after the comment %s; after the task edit %s; "
               "mem = peak RSS of the largest process)"
               % (args.repeat, max(args.repeat, WARM_REPEAT), "/".join(str(r["warm_parsed"]) for r in results),
                  "/".join(str(r["changed_parsed"]) for r in results),
                  "/".join(str(r["changed_task_parsed"]) for r in results)))
    if scaling:
        out.append("")
        srows = [[f"{s['n']} files", fmt(s["cold"]), fmt(s["warm"]), fmt(s["ruff_nc"]), fmt(s["flake8"]),
                  f"{s['mem']:.0f}MB", f"{1000 * s['cold'] / s['n']:.2f}ms"] for s in scaling]
        out.append(table(["generated", "cold", "warm", "ruff nc", "flake8 -j2", "mem", "cold/file"], srows))
    out.append("")
    checks = []
    if have_flake8:
        checks.append(("cold", t["cold"] / t["flake8"]))
    checks.append(("warm", t["warm"] / t["ruff"]))
    checks.append(("task", t["changed_task"] / t["warm"]))
    checks.append(("file", t["file_cel"] / t["file_f"]))
    for key, value in checks:
        limit, what = BUDGETS[key]
        out.append(f"{what:45s} {value:7.3f}x  budget <= {limit}x  {'ok' if value <= limit else 'OVER'}")
    out.append(f"{'(worst project: flake8 CEL file / F file)':45s} "
               f"{max(ratio(r['file_cel'], r['file_f']) for r in results):7.3f}x")
    out.append(f"{'warm after a comment edit / warm (total)':45s} {t['changed'] / t['warm']:7.2f}x  "
               f"(should be about 1x)")
    mems = [mem] + [s["mem"] for s in scaling]
    out.append(f"{'peak memory, cold (max over projects' + (' and generated' if scaling else '') + ')':45s} "
               f"{max(mems):5.0f} MB  budget <= {MEM_BUDGET_MB} MB  {'ok' if max(mems) <= MEM_BUDGET_MB else 'OVER'}")
    return "\n".join(out)


def compile_celery_lint() -> None:
    """Byte-compile celery-lint as pip does when it installs a package, so that no run pays for compiling our
    sources: with an editable install and PYTHONDONTWRITEBYTECODE=1 (set on these machines) every run would,
    while flake8, pyflakes and ruff, installed from wheels, already have their .pyc files."""
    import celery_lint

    package = Path(celery_lint.__file__).resolve().parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=REPO / ".corpus")
    parser.add_argument("--projects", default="", help="comma-separated names (with or without -VERSION)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-flake8", action="store_true", help="skip the slow whole-project flake8 runs")
    parser.add_argument("--scale", default="1000,3000,10000", help="generated project sizes ('' to skip)")
    parser.add_argument("--scale-flake8", action="store_true", help="also flake8 -j2 on the largest generated")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every timed command")
    args = parser.parse_args()

    ensure_corpus(args.corpus)
    compile_celery_lint()
    projects = projects_in(args.corpus, [p for p in args.projects.split(",") if p])
    sizes = [int(s) for s in args.scale.split(",") if s]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="celery-lint-bench-") as tmp:
        tmp = Path(tmp)
        run = Runner(args.repeat, tmp, args.verbose)
        results = []
        for project in projects:
            work = tmp / project.name
            work.mkdir()
            t0 = time.perf_counter()
            r = bench_project(run, project, work, not args.no_flake8)
            print(f"{project.name}: cold {r['cold']:.2f}s flake8 {fmt(r['flake8'])} warm {r['warm']:.2f}s "
                  f"ruff$ {r['ruff']:.2f}s changed {r['changed']:.2f}/{r['changed_task']:.2f}s file {r['file_cel']:.2f}/{r['file_f']:.2f}s "
                  f"mem {r['mem']:.0f}MB  [{time.perf_counter() - t0:.0f}s]  task={r['task']}", file=sys.stderr)
            results.append(r)
            shutil.rmtree(work, ignore_errors=True)
        scaling = bench_scaling(run, sizes, tmp, args.scale_flake8) if sizes else []
    print()
    print(report(results, scaling, args))
    print(f"\n(python {sys.version.split()[0]}, {os.cpu_count()} cores, benchmark took {time.perf_counter() - started:.0f}s)")


if __name__ == "__main__":
    main()
