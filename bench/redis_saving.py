"""Measure what `celery-lint --fix` saves on a real Redis, with the bundled example shop.

    python bench/redis_saving.py --iterations 1000

Copies examples/shop to a temporary directory, starts a private redis-server and a
real Celery worker, runs the shop's workload and counts the celery-task-meta-* keys
it leaves behind. Then runs `celery-lint --fix` on the copy and does it all again.
Exits non-zero if any workflow value differs after the fix (or the workload breaks).
"""
import argparse
import difflib
import json
import sys
import tempfile
import time
from pathlib import Path

import celery

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import redis_helpers as harness  # noqa: E402  (the harness is shared with the e2e test)

TARGET_RATIO = 5


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=1000,
                        help="workload iterations (default 1000, about 2,600 task runs)")
    return parser.parse_args()


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


def describe_differences(before, after):
    lines = []
    for workflow in sorted(set(before) | set(after)):
        old, new = before.get(workflow), after.get(workflow)
        if old != new:
            where, old_item, new_item = first_difference(old, new)
            lines.append(f"  {workflow}[{where}]:")
            lines.append(f"    before {json.dumps(old_item)[:300]}")
            lines.append(f"    after  {json.dumps(new_item)[:300]}")
    return lines


def print_phase(title, measurement):
    print(f"\n{title}: {measurement.result_keys} celery-task-meta-* keys, "
          f"used_memory {measurement.used_memory:,} B, workload {measurement.workload_seconds:.1f} s")
    print("\n".join(describe_values(measurement.values)), flush=True)


def print_comparison(before, after):
    def row(label, old, new):
        print(f"  {label:<30} {old:>14} {new:>14}")

    row("", "before fix", "after fix")
    row("celery-task-meta-* keys", f"{before.result_keys:,}", f"{after.result_keys:,}")
    row("  their memory (MEMORY USAGE)", f"{before.result_key_bytes:,} B", f"{after.result_key_bytes:,} B")
    row("Redis used_memory", f"{before.used_memory:,} B", f"{after.used_memory:,} B")
    row("  growth during the workload", f"{before.used_memory - before.used_memory_at_start:,} B",
        f"{after.used_memory - after.used_memory_at_start:,} B")
    row("workload wall time", f"{before.workload_seconds:.1f} s", f"{after.workload_seconds:.1f} s")


def key_ratio(before, after):
    return before.result_keys / after.result_keys if after.result_keys else float("inf")


def run(iterations, workdir):
    project = harness.copy_shop(workdir)
    with harness.RedisServer(Path(workdir) / "redis") as server:
        version = server.client().info("server")["redis_version"]
        print(f"{iterations} iterations of examples/shop; Celery {celery.__version__}, "
              f"redis-server {version} on {server.url}", flush=True)
        before = harness.measure_shop(project, server, iterations, workdir)
        print_phase("before fix", before)

        print(f"\n$ celery-lint --fix {project}")
        print(harness.run_celery_lint_fix(project).rstrip())
        print("\n".join(changed_lines(harness.SHOP_EXAMPLE, project)) or "(celery-lint changed nothing)")

        try:
            after = harness.measure_shop(project, server, iterations, workdir)
        except harness.HarnessError as exc:
            print(f"\nFAIL: after the fix the shop no longer works:\n{exc}")
            return False
        print_phase("after fix", after)

    print()
    print_comparison(before, after)
    ratio = key_ratio(before, after)
    verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
    print(f"\n{ratio:.1f}x fewer celery-task-meta-* keys (target {TARGET_RATIO}x: {verdict})")
    if before.values != after.values:
        differences = describe_differences(before.values, after.values)
        print("FAIL: workflow values differ after the fix:\n" + "\n".join(differences))
        return False
    print("workflow values: identical before and after the fix")
    return True


def main():
    args = parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="celery-lint-bench-") as workdir:
        try:
            ok = run(args.iterations, workdir)
        except harness.HarnessError as exc:
            print(f"ERROR: {exc}")
            return 2
    print(f"total wall time {time.monotonic() - started:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
