"""The README as a user meets it: every command in its ```sh blocks runs here as written (on a fresh copy of
examples/shop), or is listed below with the reason it cannot; CI runs its test command; its links work from a
package description (absolute, to files that exist)."""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from helpers import DEADLINE_S, REPO

README = (REPO / "README.md").read_text()
SOURCE = "https://github.com/celery-lint/celery-lint"  # [project.urls] Source
RAW = "https://raw.githubusercontent.com/celery-lint/celery-lint/main/"
BLOB = f"{SOURCE}/blob/main/"

# Commands a test cannot run, and why. Each must still appear in the README (see the test below).
NOT_RUN = {
    "pip install .": "installs into the environment running the tests; .ci/run installs into a fresh venv",
    "pip install -e '.[test]'": "the same: .ci/run does exactly this in a fresh venv",
    "python -m pytest -q": "the test suite itself: .ci/run runs it (test_ci_runs_the_readme_test_commands)",
    "python -m pytest -q --run-slow": "the full test suite: .ci/run runs its slow part after the command above",
    "python tests/corpus/download.py .corpus": "downloads about 500 MB from PyPI: .ci/run runs it",
}

# Commands run here, each on a fresh copy of examples/shop: (exit status, text the output must hold, what
# must hold afterwards: "unchanged" (no source written), or the exit status of a plain run afterwards).
RUN: Dict[str, Tuple[int, str, object]] = {
    "celery-lint examples/shop": (1, "Found 9 errors.", "unchanged"),
    "celery-lint --explain examples/shop": (1, "shop.orders.compute_tax: read: its result is read at", "unchanged"),
    "celery-lint rule CEL001": (0, "### CEL001 unread-result", "unchanged"),
    "celery-lint --diff examples/shop": (1, "+@shared_task(ignore_result=True)", "unchanged"),
    "celery-lint --fix examples/shop": (0, "Found 9 errors (9 fixed, 0 remaining).", 0),
    "celery-lint report examples/shop": (0, "14 tasks; 14 store their results: 4 read, 9 unread, 1 maybe", "unchanged"),
    "celery-lint --add-noqa examples/shop": (0, "Added 9 noqa directives.", 0),
    "celery-lint --strategy global --diff examples/shop": (1, "+    task_ignore_result=True,", "unchanged"),
    "flake8 --select CEL examples/shop": (1, "CEL001 result of task 'shop.emails.send_order_confirmation'", "unchanged"),
}


def sh_blocks(text: str) -> List[Tuple[List[str], str]]:
    """Each ```sh block's commands (one a line, ``&&`` splits, comments dropped), with the ```text block that
    directly follows it, if any (the output it shows)."""
    blocks = []
    for match in re.finditer(r"^```sh\n(.*?)^```\n(?:\n```text\n(.*?)^```\n)?", text, re.MULTILINE | re.DOTALL):
        commands = []
        for line in match.group(1).splitlines():
            line = line.split(" #")[0].strip()
            commands += [part.strip() for part in line.split("&&") if part.strip()]
        blocks.append((commands, match.group(2) or ""))
    return blocks


COMMANDS = [command for commands, _ in sh_blocks(README) for command in commands]
SHOWN = {commands[-1]: shown for commands, shown in sh_blocks(README) if shown}


def test_every_readme_command_is_run_here_or_says_why_not():
    assert COMMANDS, "README has no ```sh blocks: the parsing above is wrong"
    unlisted = [command for command in COMMANDS if command not in RUN and command not in NOT_RUN]
    assert not unlisted, f"README commands neither run by this test nor listed in NOT_RUN: {unlisted}"
    stale = [command for command in [*RUN, *NOT_RUN] if command not in COMMANDS]
    assert not stale, f"listed here but no longer in README: {stale}"
    assert not set(RUN) & set(NOT_RUN)


def sources(root: Path) -> Dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.py"))}


def run(cwd: Path, command: str) -> subprocess.CompletedProcess:
    """``command`` as a user types it, with this interpreter's scripts (celery-lint, flake8) first on PATH."""
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(cwd), "LC_ALL": "C.UTF-8"}
    return subprocess.run(shlex.split(command), cwd=cwd, env=env, capture_output=True, text=True, timeout=DEADLINE_S)


@pytest.mark.parametrize("command", sorted(RUN))
def test_readme_command_runs_as_documented(tmp_path, command):
    status, says, after = RUN[command]
    shop = tmp_path / "examples" / "shop"
    shutil.copytree(REPO / "examples" / "shop", shop, ignore=shutil.ignore_patterns(".celery_lint_cache", "__pycache__"))
    before = sources(shop)
    result = run(tmp_path, command)
    output = result.stdout + result.stderr
    assert result.returncode == status, output
    assert says in output
    if command in SHOWN:  # the output README shows is the real one ("..." stands for lines left out)
        lines = result.stdout.splitlines()
        for shown in SHOWN[command].splitlines():
            if shown == "...":
                continue
            assert shown in lines, f"README shows {shown!r}; the command printed:\n{result.stdout}"
            lines = lines[lines.index(shown) + 1:]
    if after == "unchanged":
        assert sources(shop) == before
    else:
        assert sources(shop) != before
        assert run(tmp_path, "celery-lint examples/shop").returncode == after


def test_the_first_run_shows_its_output():
    assert SHOWN.get("celery-lint examples/shop"), "README's first run should show what it prints"


def test_ci_runs_the_readme_test_commands():
    """.ci/run runs README's test command exactly, first, then the slow tests with the corpus required."""
    ci = [line.strip() for line in (REPO / ".ci" / "run").read_text().splitlines()]
    assert "python -m pytest -q" in COMMANDS and "python -m pytest -q --run-slow" in COMMANDS
    fast = ci.index("python -m pytest -q")
    slow = next(i for i, line in enumerate(ci) if line.startswith("python -m pytest -q --run-slow"))
    assert fast < slow
    assert "export CELERY_LINT_REQUIRE_CORPUS=1" in ci[:slow]
    assert "python tests/corpus/download.py .corpus" in ci[:slow]


LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def slugs(markdown: str) -> set:
    """GitHub's anchors for a Markdown file's headings."""
    headings = re.findall(r"^#+ (.+)$", re.sub(r"^```.*?^```", "", markdown, flags=re.MULTILINE | re.DOTALL),
                          re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def test_readme_links_are_absolute_and_point_at_files_that_exist():
    """A package description (PyPI, ``pip show``) has no repository around it: relative links break there."""
    targets = LINK.findall(README)
    assert targets
    for target in targets:
        if target.startswith("#"):
            assert target[1:] in slugs(README), target
            continue
        assert target.startswith((BLOB, RAW)), f"{target}: use {BLOB}<path> or {RAW}<path>"
        path, _, anchor = target[len(BLOB) if target.startswith(BLOB) else len(RAW):].partition("#")
        assert (REPO / path).is_file(), target
        if anchor:
            assert anchor in slugs((REPO / path).read_text()), target


def test_the_links_follow_the_project_urls():
    pyproject = (REPO / "pyproject.toml").read_text()
    assert f'Source = "{SOURCE}"' in pyproject
    assert f'Documentation = "{BLOB}README.md"' in pyproject


def collected(*args: str) -> set:
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
                            cwd=REPO, capture_output=True, text=True, timeout=DEADLINE_S)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return {line for line in result.stdout.splitlines() if "::" in line}


@pytest.mark.slow  # collects the whole suite twice
def test_the_two_test_commands_split_the_suite_and_neither_is_empty():
    """README's command leaves out the tests marked slow; .ci/run's second run takes exactly those."""
    fast, slow = collected(), collected("--run-slow", "-m", "slow")
    assert fast and slow and fast.isdisjoint(slow)
    assert any(test.startswith("tests/test_corpus.py::") for test in slow)
    assert not any(test.startswith("tests/test_corpus.py::") for test in fast)
    assert any(test.startswith("tests/test_two_paths.py::") and "[fork]" in test for test in fast)
