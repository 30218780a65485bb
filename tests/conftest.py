"""Shared helpers: build a small project on disk and lint it through the real engine."""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Dict, List

import pytest

from celery_lint import config as config_module
from celery_lint import engine

REPO = Path(__file__).resolve().parent.parent


# The tests marked ``slow`` (the corpus, spawn and forkserver workers, real Redis workers, packaging) are left
# out unless --run-slow is given: README's test command stays a few minutes on two cores, and .ci/run runs
# the slow ones after it (``python -m pytest -q --run-slow -m slow``). Left out means deselected, not skipped:
# a run that selects nothing exits 5, so a CI step whose selection went empty fails.
def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", help="also run the tests marked slow")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--run-slow"):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]
        config._celery_lint_slow_left_out = len(slow)


def pytest_terminal_summary(terminalreporter, config):
    left_out = getattr(config, "_celery_lint_slow_left_out", 0)
    if left_out:
        terminalreporter.write_line(f"{left_out} slow tests not run (the corpus, spawn and forkserver workers, real "
                                    f"Redis workers, packaging): python -m pytest -q --run-slow runs everything")


def write_project(root: Path, files: Dict[str, str]) -> Path:
    """Write ``files`` ({relative path: source}) under ``root``; packages get their __init__.py."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'example'\n")
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
        for parent in path.relative_to(root).parents:
            if parent != Path(".") and not (root / parent / "__init__.py").exists():
                (root / parent / "__init__.py").write_text("")
    return root


def outcome(report) -> tuple:
    """Everything a run answers: findings with their fixes, and every task's verdict and why (the way each
    deciding result went included: ``--explain`` shows it)."""
    return ([(f.format(), f.fix) for f in report.findings],
            sorted((t.qualname, v.state, v.reason, v.first_read, v.places,
                    repr([(path, use.outcome.steps) for path, use in v.decided_by])) for t, v in report.verdicts))


def analyse_both_ways(root: Path, **options):
    """The fast path's report, after checking that the plain path (speed=False) answers the same."""
    config = config_module.load(root)
    fast = engine.analyse_root(root, config, use_cache=False, **options)
    plain = engine.analyse_root(root, config, use_cache=False, speed=False, **options)
    assert outcome(plain) == outcome(fast)
    return fast


def lint(root: Path) -> List[str]:
    """Findings as the CLI prints them (paths relative to the root), without using the cache; both paths."""
    return [f.format() for f in analyse_both_ways(root).findings]


@pytest.fixture
def project(tmp_path):
    def build(files: Dict[str, str]) -> Path:
        return write_project(tmp_path / "proj", files)

    return build
