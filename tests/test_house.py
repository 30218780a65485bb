"""The house stays small (issue 20): no function of ``celery_lint`` over McCabe complexity 12 as ruff counts it
(``C901``, configured in pyproject.toml) and no module over 500 lines. A new feature finds its place instead
of another branch."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "celery_lint"
MAX_LINES = 500


def test_no_module_is_over_500_lines():
    sizes = {str(path.relative_to(PACKAGE)): len(path.read_bytes().splitlines()) for path in PACKAGE.rglob("*.py")}
    assert {name: lines for name, lines in sizes.items() if lines > MAX_LINES} == {}


def test_ruff_finds_no_function_over_complexity_12_and_no_unused_or_undefined_name():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "celery_lint"],
                            cwd=PACKAGE.parent, capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, "All checks passed!\n"), result.stdout + result.stderr
