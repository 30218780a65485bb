"""The value-flow property test's generator (tests/flow_generator.py) with thousands of examples: how often the
analysis agrees with the generator's ground truth. Prints counts, never asserts on time.

    python bench/flow_property.py [--examples 2000] [--seed 0]

For every generated task: read (some use reads its result) or unread. Of the read tasks, any CEL001 is a false
positive (listed with its project, and the exit code is 1). Of the unread ones: found (CEL001), silent through
a gap the property test lists (tests/test_value_flow_property.py: NOT_FOLLOWED), silent because another task's
read is lost through a gap while this one is handed on as a value, silent because its id is taken while the
project reads results by id, or missed (silent for no listed reason: the property test would fail).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))

from hypothesis import HealthCheck, given, seed, settings  # noqa: E402

import flow_generator as flows  # noqa: E402
from celery_lint import config as config_module  # noqa: E402
from celery_lint import engine  # noqa: E402
from test_value_flow_property import NOT_FOLLOWED  # noqa: E402


def _describe(spec: flows.Spec) -> str:
    return "\n".join(f"    t{use.task}: {' -> '.join(f'{n} ({use.path[s]})' for s, n in use.steps) or '(direct)'}"
                     f" -> {use.sink.template.splitlines()[0]}" for use in spec.uses)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()
    counts, wrong = Counter(), []

    @seed(options.seed)
    @settings(max_examples=options.examples, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(flows.specs())
    def run(spec):
        directory = Path(tempfile.mkdtemp())
        try:
            flows.write(directory, spec)
            report = engine.analyse_root(directory, config_module.load(directory), use_cache=False, jobs=1)
            judged = flows.judge(spec, report, NOT_FOLLOWED)
        finally:
            shutil.rmtree(directory)
        counts["projects"] += 1
        for key in ("read", "unread", "found", "silent_unfollowed", "silent_unknown_read", "silent_id"):
            counts[key] += getattr(judged, key)
        counts["false positives"] += len(judged.false_positives)
        counts["missed"] += len(judged.missed)
        if judged.false_positives or judged.missed:
            wrong.append((spec, judged))

    run()
    unread = counts["unread"] or 1
    print(f"{counts['projects']} projects, {counts['read'] + counts['unread']} tasks: {counts['read']} read, "
          f"{counts['unread']} unread")
    print(f"read tasks reported CEL001 (false positives):       {counts['false positives']}")
    print(f"unread tasks found (CEL001):                        {counts['found']} ({100 * counts['found'] / unread:.1f}%)")
    for key, what in (("silent_unfollowed", "silent, a carrier not followed yet"),
                      ("silent_unknown_read", "silent, another's read lost in a gap"),
                      ("silent_id", "silent, id taken, results read by id"),
                      ("missed", "silent for no listed reason (missed)")):
        print(f"unread tasks {what + ':':<39}{counts[key]} ({100 * counts[key] / unread:.1f}%)")
    followed = counts["found"] + counts["missed"]
    print(f"unread tasks through followed carriers only:        {followed}, found {counts['found']}")
    for spec, judged in wrong[:5]:
        print(f"\nfalse positives {judged.false_positives}, missed {judged.missed}:\n{_describe(spec)}")
    return 1 if counts["false positives"] else 0


if __name__ == "__main__":
    sys.exit(main())
