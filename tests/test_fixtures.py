"""Fixture projects in, exact findings and exact fixed source out (through the real CLI)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CASES = sorted(p.name for p in FIXTURES.iterdir() if (p / "project").is_dir())


def run_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "celery_lint", "--no-cache", "-q", *args], cwd=cwd,
                          capture_output=True, text=True)


def sources(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.py"))}


@pytest.fixture
def copy(tmp_path):
    def make(case: str) -> Path:
        target = tmp_path / case
        shutil.copytree(FIXTURES / case / "project", target)
        return target

    return make


@pytest.mark.parametrize("case", CASES)
def test_findings(case, copy):
    root = copy(case)
    result = run_cli(root, ".")
    expected = (FIXTURES / case / "expected.txt").read_text()
    assert result.stdout == expected
    assert result.returncode == (1 if expected else 0)


@pytest.mark.parametrize("case", CASES)
def test_fix_gives_exact_source_and_is_idempotent(case, copy):
    root = copy(case)
    before = sources(root)
    run_cli(root, "--fix", ".")
    after = sources(root)
    fixed_dir = FIXTURES / case / "fixed"
    expected = {**before, **sources(fixed_dir)} if fixed_dir.exists() else before
    assert after == expected  # byte for byte: untouched files too
    run_cli(root, "--fix", ".")
    assert sources(root) == after  # a second --fix changes nothing


@pytest.mark.parametrize("case", CASES)
def test_diff_writes_nothing(case, copy):
    root = copy(case)
    before = sources(root)
    result = run_cli(root, "--diff", ".")
    assert sources(root) == before
    changed = (FIXTURES / case / "fixed").exists()
    assert ("+++ b/" in result.stdout) == changed


def test_unparsable_file_is_one_error_line_and_never_written(copy):
    root = copy("formatting")
    broken = (root / "billing" / "legacy.py").read_bytes()
    result = run_cli(root, "--fix", ".")
    assert result.stdout.splitlines()[0] == "billing/legacy.py:5:12: CEL000 cannot parse: invalid syntax"
    assert "Traceback" not in result.stderr
    assert (root / "billing" / "legacy.py").read_bytes() == broken
    assert result.returncode == 1


def test_noqa_suppresses_only_its_task(copy):
    root = copy("formatting")
    (root / "billing" / "tasks.py").write_bytes((root / "billing" / "tasks.py").read_bytes().replace(b"  # noqa: CEL001 - kept", b"  # kept"))
    lines = run_cli(root, ".").stdout.splitlines()
    assert [line.split(":")[1] for line in lines] == ["5", "6", "14", "19"]  # 5: billing/legacy.py does not parse


def test_explain_says_why_an_unread_task_has_no_finding_and_where_each_is_enqueued(copy):
    root = copy("config_no_backend")
    result = run_cli(root, "--explain", ".")
    assert result.stdout.splitlines() == [
        "mailer/tasks.py:4: mailer.tasks.send_digest: unread: nothing reads its result",
        "    no finding: no result backend is configured (mailer/worker.py:4): nothing is stored",
        "    mailer/hooks.py:5: enqueued: result discarded",
        "mailer/tasks.py:9: mailer.tasks.bounce: unread: nothing reads its result",
        "    no finding: no result backend is configured (mailer/worker.py:4): nothing is stored",
        "    mailer/hooks.py:9: enqueued: result discarded",
    ]
    assert result.returncode == 0


def test_explain_lists_every_enqueue_site_with_its_kind(copy):
    root = copy("errbacks")
    lines = run_cli(root, "--explain", ".").stdout.splitlines()
    start = lines.index("billing/tasks.py:18: billing.tasks.close_batch: read: its result is read at billing/flows.py:8 "
                        "(old-style errback report_failure is given its id and reads its result by id; "
                        "ignore_result=True with store_errors_even_if_ignored=True would still store the failures "
                        "it reads)")
    assert lines[start + 1:start + 3] == [
        "    billing/flows.py:8: signature: chord body; canvas result discarded",
        "    billing/flows.py:8: errback reads it: old-style errback report_failure is given its id and reads its "
        "result by id; ignore_result=True with store_errors_even_if_ignored=True would still store the failures it reads",
    ]


def test_explain_never_says_never_enqueued_for_a_task_handed_on(copy):
    """Tasks passed to a helper that runs them in a lambda, or handed on as a bound method, are not followed yet:
    they stay silent, and --explain says where they were handed on."""
    root = copy("instance_flows")
    lines = run_cli(root, "--explain", ".").stdout.splitlines()
    verdicts = [line for line in lines if not line.startswith(" ") and ": maybe: " in line]
    assert len(verdicts) == 2
    assert not any("never enqueued" in line for line in lines)
    # kept on the instance, by the constructor or by a method naming it: followed (``analysis/instance_attrs.py``)
    assert "hooks/tasks.py:9: hooks.tasks.get_results: read: its result is read at hooks/services.py:20 (.get)" \
           in lines
    assert "hooks/tasks.py:4: hooks.tasks.deliver_hook: unread: nothing reads its result" in lines


def test_without_a_backend_the_summary_says_how_many_findings_it_hides(copy):
    root = copy("config_no_backend")
    result = subprocess.run([sys.executable, "-m", "celery_lint", "--no-cache", "."], cwd=root, capture_output=True,
                            text=True)
    assert result.stdout.splitlines() == [
        "All checks passed!",
        "No result backend is configured (mailer/worker.py:4): 2 unread results are not reported. If one is "
        "configured where celery-lint cannot see, set assume-backend = true in [tool.celery-lint] (or pass "
        "--assume-backend).",
    ]
    assert result.returncode == 0


@pytest.mark.parametrize("how", ["flag", "config"])
def test_assume_backend_reports_what_no_backend_hides(copy, how):
    root = copy("config_no_backend")
    if how == "config":
        with open(root / "pyproject.toml", "a") as handle:
            handle.write("\n[tool.celery-lint]\nassume-backend = true\n")
    result = run_cli(root, *(["--assume-backend"] if how == "flag" else []), ".")
    assert [line.split(": CEL001 ")[0] for line in result.stdout.splitlines()] == ["mailer/tasks.py:4:1",
                                                                                   "mailer/tasks.py:9:1"]
    assert result.returncode == 1


def test_assume_backend_drops_the_condition_of_an_unknown_backend(copy):
    root = copy("backend_env")
    result = run_cli(root, "--assume-backend", ".")
    assert result.stdout == (FIXTURES / "backend_env" / "expected.txt").read_text().split(" (stored if")[0] + "\n"
