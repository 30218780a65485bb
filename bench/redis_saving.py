"""Measure what `celery-lint --fix` saves on a real Redis, with the bundled example shop.

    python bench/redis_saving.py --iterations 1000            # about 2,600 task runs per variant
    python bench/redis_saving.py --quick                       # 100 iterations, while developing

Runs the shop's workload (examples/shop/run_workload.py) once per variant, each on its own
fresh copy of examples/shop, with its own fresh redis-server and real Celery worker:

    none      the shop as it is
    per-task  after `celery-lint check --fix`: ignore_result=True on each unread task
    per-task+call  the same with `--extend-select CEL003`: also ignore_result=True at each
              call that discards a result other calls read (shop.views.refresh_stock)
    global    after `celery-lint check --fix --strategy global`: task_ignore_result = True
              where the app is configured, ignore_result=False on the tasks that are read

(a variant whose fix command fails, e.g. an older celery-lint without --strategy, is
skipped with a note; --require-global makes that an error.)

While a workload runs, a sampler thread reads Redis INFO every 0.2 s on its own
connection: keys in db0, used_memory, total_commands_processed, total_net_input_bytes and
total_net_output_bytes. Every figure is relative to a baseline read just before the
workload starts (worker up and idle), and commands and network are cumulative since then.
The sampler's own INFO calls are subtracted exactly, so polling costs nothing in the
figures. The window ends when the queue is drained (the harness's drain check, a few
control broadcasts, is inside it for every variant alike).

Prints each fix's changed lines, a table of the variants with ratios none/variant,
and draws one PNG (--plot, default bench/redis_saving.png): four panels (keys, memory,
commands, network), one line per variant. matplotlib is only needed for the PNG
(`pip install matplotlib`); without it the PNG is skipped.

Exits non-zero if any workflow value differs between variants (or a fixed shop breaks).
"""
import argparse
import difflib
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import celery
import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import redis_helpers as harness  # noqa: E402  (the harness is shared with the e2e test)

TARGET_RATIO = 5
SAMPLE_EVERY_S = 0.2
QUICK_ITERATIONS = 100
DEFAULT_PLOT = Path(__file__).resolve().with_name("redis_saving.png")

# The fix each variant applies, as arguments of `python -m celery_lint` run inside the copy.
FIXES = {
    "none": None,
    "per-task": ["check", "--fix", "--no-cache", "."],
    # CEL001's fix plus CEL003's (opt-in): the calls that discard a result other calls read pass ignore_result=True
    "per-task+call": ["check", "--fix", "--extend-select", "CEL003", "--no-cache", "."],
    "global": ["check", "--fix", "--strategy", "global", "--no-cache", "."],
}
COLOURS = {"none": "tab:red", "per-task": "tab:blue", "per-task+call": "tab:purple", "global": "tab:green"}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=1000,
                        help="workload iterations (default 1000, about 2,600 task runs)")
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_ITERATIONS} iterations, for development")
    parser.add_argument("--variants", default=",".join(FIXES),
                        help=f"comma-separated subset of {', '.join(FIXES)} (none is always run)")
    parser.add_argument("--plot", type=Path, default=DEFAULT_PLOT, metavar="PATH",
                        help="where to write the PNG (default bench/redis_saving.png)")
    parser.add_argument("--no-plot", action="store_true", help="write no PNG")
    parser.add_argument("--require-global", action="store_true",
                        help="exit non-zero when the global variant cannot run")
    args = parser.parse_args()
    if args.quick:
        args.iterations = QUICK_ITERATIONS
    names = {name.strip() for name in args.variants.split(",") if name.strip()}
    unknown = names - set(FIXES)
    if unknown:
        parser.error(f"unknown variant(s): {', '.join(sorted(unknown))}")
    args.variants = [name for name in FIXES if name in names | {"none"}]  # none is the reference
    return args


# --- Redis INFO sampling ----------------------------------------------------------------

INFO_SECTIONS = ("keyspace", "memory", "stats")
INFO_REQUEST_BYTES = len(f"*{1 + len(INFO_SECTIONS)}\r\n") + sum(
    len(f"${len(arg)}\r\n{arg}\r\n") for arg in ("INFO", *INFO_SECTIONS))  # RESP2, as Redis reads it


@dataclass
class Sample:
    seconds: float  # since the baseline
    keys: int  # every key in db0: results, broker queues, the shop's own records
    used_memory: int
    commands: int
    net_in: int
    net_out: int

    def minus(self, base):
        return Sample(*(getattr(self, name) - getattr(base, name) for name in self.__dataclass_fields__))


def parse_info(raw):
    fields = dict(line.split(":", 1) for line in raw.decode().splitlines() if ":" in line)
    db0 = dict(item.split("=") for item in fields.get("db0", "keys=0").split(","))
    return fields, int(db0["keys"])


class InfoSampler:
    """Reads INFO every SAMPLE_EVERY_S in a thread, on its own connection, minus its own traffic.

    Redis counts an INFO's request in the counters it reports, but not the command
    itself nor its response (not yet written), so after k reads the sampler has
    added k requests, k-1 commands and k-1 responses of known size: subtracted here.
    """

    def __init__(self, port):
        # RESP2: INFO comes back as a plain bulk string, whose size on the wire we can compute.
        self.client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10, protocol=2)
        self.client.set_response_callback("INFO", lambda response, **options: response)
        self.own = {"commands": 0, "in": 0, "out": 0}
        self.samples = []
        self.started = None
        self.error = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="info-sampler", daemon=True)

    def read(self):
        raw = self.client.execute_command("INFO", *INFO_SECTIONS)
        now = time.monotonic()
        fields, keys = parse_info(raw)
        self.own["in"] += INFO_REQUEST_BYTES
        sample = Sample(
            seconds=now - (self.started if self.started is not None else now),
            keys=keys,
            used_memory=int(fields["used_memory"]),
            commands=int(fields["total_commands_processed"]) - self.own["commands"],
            net_in=int(fields["total_net_input_bytes"]) - self.own["in"],
            net_out=int(fields["total_net_output_bytes"]) - self.own["out"],
        )
        self.own["commands"] += 1
        self.own["out"] += len(f"${len(raw)}\r\n") + len(raw) + 2
        return sample

    def _poll(self):
        try:
            while not self._stop.wait(SAMPLE_EVERY_S):
                self.samples.append(self.read())
        except Exception as exc:  # noqa: BLE001  (reported by stop(), the run goes on)
            self.error = exc

    def start(self):
        self.client.ping()  # open the connection (and its handshake) before the baseline
        self.started = time.monotonic()
        self.samples.append(self.read())
        self._thread.start()
        return self

    def elapsed(self):
        return time.monotonic() - self.started

    def stop(self):
        """Stop polling, take a last sample; return every sample relative to the baseline."""
        self._stop.set()
        self._thread.join()
        if self.error:
            print(f"  (the sampler stopped early: {self.error})")
        self.samples.append(self.read())
        self.client.close()
        baseline = self.samples[0]
        return [sample.minus(baseline) for sample in self.samples]


# --- one variant: copy, fix, run, measure -------------------------------------------------

@dataclass
class VariantRun:
    name: str
    samples: list  # Sample, relative to the baseline
    result_keys: int  # celery-task-meta-* keys left at the end
    result_key_bytes: int  # their MEMORY USAGE, summed
    values: dict  # every workflow value the workload read
    workload_seconds: float
    drained_seconds: float  # when the queue was empty and the worker idle: the window's end
    fix_lines: list = field(default_factory=list)

    @property
    def final(self):
        return self.samples[-1]


class FixFailed(Exception):
    """The variant's celery-lint command failed: the variant is skipped."""


def apply_fix(name, project):
    """Run the variant's fix in the copy; return celery-lint's output."""
    command = [sys.executable, "-m", "celery_lint", *FIXES[name]]
    print(f"\n[{name}] $ cd {project} && python -m celery_lint {' '.join(FIXES[name])}")
    try:
        completed = subprocess.run(command, cwd=project, capture_output=True, text=True,
                                   timeout=harness.LINT_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise FixFailed(f"still running after {harness.LINT_TIMEOUT_S} s") from exc
    output = (completed.stdout + completed.stderr).rstrip()
    if completed.returncode not in (0, 1):  # 1: findings reported (and fixed)
        raise FixFailed(f"exit {completed.returncode}: {output.splitlines()[-1] if output else '(no output)'}")
    return output


def measure(name, project, server, iterations, log_dir):
    """Start a worker, read the baseline, run the workload while sampling, wait for the drain."""
    client = server.client()
    log_path = Path(log_dir) / "worker.log"
    worker = harness.CeleryWorker(harness.SHOP_APP_MODULE, project, server.url, log_path,
                                  env={"SHOP_REDIS_URL": server.url})
    with worker:
        sampler = InfoSampler(server.port).start()
        try:
            values = harness.run_workload(project, server.url, iterations)
            workload_seconds = sampler.elapsed()
            harness.wait_until_drained(server.url, client)
            drained_seconds = sampler.elapsed()
        finally:
            samples = sampler.stop()
        keys = harness.result_keys(client)
        key_bytes = sum(client.memory_usage(key) or 0 for key in keys)
    return VariantRun(name, samples, len(keys), key_bytes, values, workload_seconds, drained_seconds)


def run_variant(name, iterations, workdir):
    """A fresh copy of the shop, its fix, a fresh Redis and worker. None if the fix cannot run."""
    variant_dir = Path(workdir) / name
    project = harness.copy_shop(variant_dir)
    fix_lines = []
    if FIXES[name]:
        try:
            output = apply_fix(name, project)
        except FixFailed as exc:
            print(f"[{name}] SKIPPED: the fix command failed ({exc})")
            return None
        print(output)
        fix_lines = changed_lines(harness.SHOP_EXAMPLE, project)
        print("\n".join(fix_lines) or "(celery-lint changed nothing)")
    with harness.RedisServer(variant_dir / "redis") as server:
        run = measure(name, project, server, iterations, variant_dir)
    run.fix_lines = fix_lines
    print(f"[{name}] workload {run.workload_seconds:.1f} s, drained at {run.drained_seconds:.1f} s, "
          f"{len(run.samples)} INFO samples, {run.result_keys:,} celery-task-meta-* keys", flush=True)
    return run


# --- reporting ------------------------------------------------------------------------------

def changed_lines(original_dir, fixed_dir):
    """What the fix changed: per file, the -/+ lines and the def they decorate."""
    lines = []
    for original in sorted(Path(original_dir).rglob("*.py")):
        relative = original.relative_to(original_dir)
        fixed = Path(fixed_dir) / relative
        diff = list(difflib.unified_diff(
            original.read_text().splitlines(), fixed.read_text().splitlines(), lineterm="", n=1,
        ))[2:]  # drop the ---/+++ header
        shown = [line for line in diff if line[:1] in "+-" or line.lstrip().startswith("def ")]
        if shown:
            lines += [f"{relative}:"] + [f"  {line}" for line in shown]
    return lines


def describe_values(values):
    lines = []
    for workflow, value in sorted(values.items()):
        items = list(value.values()) if isinstance(value, dict) else value
        first = json.dumps(items[0], sort_keys=True) if items else "-"
        lines.append(f"  {workflow:<12} {len(items):>4} values, first: {first}")
    return lines


def first_difference(old, new):
    """Where two workflow values first differ: (index or key, old item, new item)."""
    if isinstance(old, dict) and isinstance(new, dict):
        keys = sorted(set(old) | set(new))
        return next((key, old.get(key), new.get(key)) for key in keys if old.get(key) != new.get(key))
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return next((index, a, b) for index, (a, b) in enumerate(zip(old, new)) if a != b)
    return ("whole value", old, new)


def describe_differences(reference, other, labels=("none", "fixed")):
    width = max(map(len, labels))
    lines = []
    for workflow in sorted(set(reference) | set(other)):
        old, new = reference.get(workflow), other.get(workflow)
        if old != new:
            where, old_item, new_item = first_difference(old, new)
            lines.append(f"  {workflow}[{where}]:")
            lines.append(f"    {labels[0]:<{width}} {json.dumps(old_item)[:300]}")
            lines.append(f"    {labels[1]:<{width}} {json.dumps(new_item)[:300]}")
    return lines


def ratio(reference, value):
    return f"{reference / value:.1f}x" if value > 0 and reference > 0 else "-"


# (label, how to read it from a VariantRun, unit)
TABLE_ROWS = [
    ("celery-task-meta-* keys", lambda run: run.result_keys, ""),
    ("  their memory (MEMORY USAGE)", lambda run: run.result_key_bytes, " B"),
    ("keys in db0 at the end (all)", lambda run: run.final.keys, ""),
    ("used_memory growth", lambda run: run.final.used_memory, " B"),
    ("commands processed", lambda run: run.final.commands, ""),
    ("net input (to Redis)", lambda run: run.final.net_in, " B"),
    ("net output (from Redis)", lambda run: run.final.net_out, " B"),
]


def print_table(runs):
    reference = runs[0]
    header = f"  {'':<30} {'none':>13}"
    for run in runs[1:]:
        header += f" {run.name:>13} {'none/' + run.name:>14}"
    print(header)
    for label, read, unit in TABLE_ROWS:
        line = f"  {label:<30} {read(reference):>11,}{unit:<2}"
        for run in runs[1:]:
            line += f" {read(run):>11,}{unit:<2} {ratio(read(reference), read(run)):>14}"
        print(line)
    times = f"  {'workload / drained (s)':<30} {_times(reference):>13}"
    for run in runs[1:]:
        times += f" {_times(run):>13} {'':>14}"
    print(times)


def _times(run):
    return f"{run.workload_seconds:.1f} / {run.drained_seconds:.1f}"


def check_values(runs):
    """True if every variant's workflow values equal those of the unchanged shop."""
    reference, same = runs[0], True
    for run in runs[1:]:
        if run.values == reference.values:
            print(f"workflow values: {run.name} identical to none")
        else:
            same = False
            print(f"FAIL: {run.name}'s workflow values differ from none's:")
            print("\n".join(describe_differences(reference.values, run.values, ("none", run.name))))
    return same


# --- the PNG ------------------------------------------------------------------------------

PANELS = [  # (title, y label, scale, fields)
    ("keys in db0", "keys", 1, ["keys"]),
    ("used_memory growth", "MiB", 1 / 2**20, ["used_memory"]),
    ("commands processed (cumulative)", "thousand commands", 1e-3, ["commands"]),
    ("network (cumulative; solid: out of Redis, dashed: in)", "MiB", 1 / 2**20, ["net_out", "net_in"]),
]


def plot(runs, path, iterations):
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed: no PNG (pip install matplotlib)")
        return
    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 2, figsize=(12, 8), sharex=True)
    for axis, (title, unit, scale, names) in zip(axes.flat, PANELS):
        for run in runs:
            seconds = [sample.seconds for sample in run.samples]
            for name, style in zip(names, ["-", "--"]):
                values = [getattr(sample, name) * scale for sample in run.samples]
                label = run.name if style == "-" else None
                axis.plot(seconds, values, style, color=COLOURS[run.name], label=label, linewidth=1.5)
            # where the workload returned; the rest of the line is the drain
            axis.axvline(run.workload_seconds, color=COLOURS[run.name], linestyle=":", linewidth=0.8)
        axis.set_title(title, fontsize=11)
        axis.set_ylabel(unit)
        axis.grid(True, alpha=0.3)
    for axis in axes[1]:
        axis.set_xlabel("seconds since the workload started (dotted: workload returned)")
    axes[0][0].legend(loc="upper left")
    figure.suptitle(f"examples/shop, {iterations} iterations: Redis INFO, relative to just before the "
                    f"workload (celery {celery.__version__})", fontsize=12)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    print(f"wrote {path}")


# --- main -----------------------------------------------------------------------------------

def run(args, workdir):
    """Run every variant; return (runs, skipped names, failed names)."""
    runs, skipped, failed = [], [], []
    for name in args.variants:
        try:
            result = run_variant(name, args.iterations, workdir)
        except harness.HarnessError as exc:
            if name == "none":
                raise  # without the reference there is nothing to compare
            print(f"\nFAIL: after the {name} fix the shop no longer works:\n{exc}")
            failed.append(name)
            continue
        if result is None:
            skipped.append(name)
        else:
            runs.append(result)
    return runs, skipped, failed


def report(runs, args):
    """Print the table and verdicts, draw the PNG; return True if the values all agree."""
    print("\nRedis after the workload, relative to just before it (commands and network cumulative):")
    print_table(runs)
    print()
    for fixed in runs[1:]:
        key_ratio = runs[0].result_keys / fixed.result_keys if fixed.result_keys else float("inf")
        verdict = "met" if key_ratio >= TARGET_RATIO else "NOT met"
        print(f"{fixed.name}: {key_ratio:.1f}x fewer celery-task-meta-* keys (target {TARGET_RATIO}x: {verdict})")
    by_name = {run.name: run for run in runs}
    if "per-task" in by_name and "per-task+call" in by_name:  # what CEL003 adds to CEL001's fix
        task, call = by_name["per-task"], by_name["per-task+call"]
        print(f"CEL003 on top of CEL001: {task.result_keys - call.result_keys:,} keys fewer "
              f"({task.result_keys:,} -> {call.result_keys:,}), {task.result_key_bytes - call.result_key_bytes:,} B of "
              f"MEMORY USAGE fewer, used_memory {task.final.used_memory - call.final.used_memory:,} B lower")
    print("\nworkflow values of none:")
    print("\n".join(describe_values(runs[0].values)))
    same = check_values(runs)
    if not args.no_plot:
        plot(runs, args.plot, args.iterations)
    return same


def main():
    args = parse_args()
    started = time.monotonic()
    if shutil.which("redis-server") is None:
        print("ERROR: redis-server is not installed (apt-get install redis-server)")
        return 2
    version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True, check=False).stdout.split()
    print(f"{args.iterations} iterations of examples/shop per variant ({', '.join(args.variants)}); "
          f"Celery {celery.__version__}, {' '.join(version[:3])}", flush=True)
    with tempfile.TemporaryDirectory(prefix="celery-lint-bench-") as workdir:
        try:
            runs, skipped, failed = run(args, workdir)
        except harness.HarnessError as exc:
            print(f"ERROR: {exc}")
            return 2
    ok = report(runs, args) and not failed
    if "global" in skipped:
        consequence = "; --require-global makes this an error" if args.require_global else ""
        print(f"global variant skipped: its fix command failed (see above){consequence}")
        ok = ok and not args.require_global
    print(f"total wall time {time.monotonic() - started:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
