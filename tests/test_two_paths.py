"""The speed layer may skip work, never change an answer: the plain path (``speed=False``: every file read and
parsed whole, no prefilter, no slicing, no reuse, no cache) must answer exactly as the fast path, on every
fixture project and the bundled example, in this process and in worker processes under every start method.
(The switch travels with each piece of work, so it reaches workers started by ``spawn`` and ``forkserver``,
which a monkeypatch in this process would not.) ``test_patterns`` and ``test_corpus`` hold the same on their
projects; ``test_rules_doc`` on each rule's examples."""
from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from celery_lint import config as config_module
from celery_lint import engine
from celery_lint.speed.parallel import Summarizers
from conftest import REPO, outcome

PROJECTS = sorted(REPO.glob("fixtures/*/project")) + [REPO / "examples" / "shop"]
# fork (Linux's default) runs in every test run; spawn and forkserver, whose workers import everything afresh,
# are slow (a quarter of the quick run's time) and run with --run-slow.
METHODS = [m if m == "fork" else pytest.param(m, marks=pytest.mark.slow)
           for m in ("fork", "spawn", "forkserver") if m in multiprocessing.get_all_start_methods()]


def analyse(root: Path, **options):
    return engine.analyse_root(root, config_module.load(root), use_cache=False, **options)


@pytest.fixture
def pooled(monkeypatch):
    """Record whether each run summarised its files in worker processes."""
    seen = []
    real_run = Summarizers.run

    def run(self, work, more=None):
        results = real_run(self, work, more)
        seen.append(self._pool is not None and bool(results))
        return results

    monkeypatch.setattr(Summarizers, "run", run)
    return seen


@pytest.mark.parametrize("method", METHODS)
def test_both_paths_answer_alike_in_worker_processes(method, pooled):
    for root in PROJECTS:
        reference = outcome(analyse(root, speed=False, jobs=1))  # in this process
        assert reference[1], root  # tasks were found: a comparison of nothing proves nothing
        for speed in (True, False):
            pooled.clear()
            assert outcome(analyse(root, speed=speed, jobs=2, start_method=method)) == reference, (root, speed)
            assert any(pooled), "the files were summarised in worker processes"


def test_the_fast_path_skips_work():
    """What makes the fast path fast, on the bundled example: not every file is parsed, and what is parsed is
    cut (the plain path parses all)."""
    root = REPO / "examples" / "shop"
    fast, plain = analyse(root), analyse(root, speed=False)
    assert plain.parsed == plain.files
    assert fast.parsed < plain.parsed
