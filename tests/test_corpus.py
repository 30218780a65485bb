"""celery-lint on the 12 real projects of the development corpus (tests/corpus/pins.txt, README.md there).

* findings equal the reviewed expectation files ``tests/corpus/expected/<project>.txt`` (finding lines only; the
  ``# evidence:`` comments and ``# silent:`` lines are the review record, see ``tests/corpus/README.md``);
* no file fails to parse;
* ``--fix`` on a copy: changed files still compile, only decorator lines change, a second ``--fix`` is a no-op;
* the maintainers' own ``ignore_result=True`` flags as ground truth (``tests/corpus/ground_truth.py``);
* the speed layer changes no answer: each project again on the plain path (every file parsed whole).

The corpus (pins in ``tests/corpus/pins.txt``) is downloaded into ``<repo>/.corpus`` (git-ignored) by
``tests/corpus/download.py`` when missing; ``CELERY_LINT_CORPUS=/path`` points the tests at an already unpacked
copy instead. Every project is analysed once per session and path, without the cache; the whole module takes
about 2 minutes on two cores (the plain path, which parses every file of every project, is most of it).
"""
from __future__ import annotations

import ast
import difflib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Set

import pytest

from celery_lint import config as config_module
from celery_lint import discovery, engine
from celery_lint.analysis.statements import parse_statements
from celery_lint.fixing.writing import fix_report
from celery_lint.speed import prefilter, slicing
from celery_lint.speed.parallel import Work, summarise_one
from celery_lint.speed.prefilter import Interest
from celery_lint.types import Report

REPO = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent / "corpus"
EXPECTED = HERE / "expected"
DOWNLOAD = HERE / "download.py"  # the pins are tests/corpus/pins.txt
CORPUS = Path(os.environ.get("CELERY_LINT_CORPUS") or REPO / ".corpus")
PROJECTS = sorted(p.stem for p in EXPECTED.glob("*.txt"))

sys.path.insert(0, str(HERE))
import ground_truth  # noqa: E402  (tests/corpus/ground_truth.py)

pytestmark = pytest.mark.slow  # about 40% of the whole suite's time, and a 500 MB download first

# Files that do not parse, per project (none today). Nautobot ships two deliberately broken files under
# nautobot/extras/tests/git_data/02-invalid-files/; they mention neither Celery nor a task, so they are never
# summarised and never reported.
PARSE_FAILURES: Dict[str, List[str]] = {}


def _package_name(project_dir: str) -> str:
    return project_dir.rpartition("-")[0]  # ``invenio-rdm-records-36.0.0`` -> ``invenio-rdm-records``


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The pinned projects, downloaded (from PyPI, hash-checked) when missing. Offline, the corpus tests are
    skipped with a message saying how to get them, unless CELERY_LINT_REQUIRE_CORPUS=1 (CI) makes that an error."""
    missing = [name for name in PROJECTS if not (CORPUS / name).is_dir() or not any((CORPUS / name).iterdir())]
    if missing:
        result = subprocess.run([sys.executable, str(DOWNLOAD), str(CORPUS), *map(_package_name, missing)])
        if result.returncode != 0:
            message = (f"corpus not downloaded to {CORPUS} (pip could not fetch it); get it with: "
                       f"python tests/corpus/download.py {CORPUS}")
            if os.environ.get("CELERY_LINT_REQUIRE_CORPUS"):
                pytest.fail(message)
            pytest.skip(message)
    return CORPUS


_REPORTS: Dict[tuple, Report] = {}


def report_for(corpus: Path, name: str, speed: bool = True) -> Report:
    if (name, speed) not in _REPORTS:
        root = corpus / name
        _REPORTS[name, speed] = engine.analyse_root(root, config_module.load(root), use_cache=False, speed=speed)
    return _REPORTS[name, speed]


def expected_findings(name: str) -> List[str]:
    lines = []
    for line in (EXPECTED / f"{name}.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        lines.append(line.split("  # evidence:")[0].rstrip())
    return lines


@pytest.mark.parametrize("name", PROJECTS)
def test_findings_match_the_reviewed_expectations(corpus, name):
    report = report_for(corpus, name)
    assert [f.format() for f in report.findings] == expected_findings(name)


@pytest.mark.parametrize("name", PROJECTS)
def test_no_parse_failures(corpus, name):
    report = report_for(corpus, name)
    assert report.errors == PARSE_FAILURES.get(name, [])


# ----- the speed layer changes nothing ------------------------------------------------------------------------

def _verdicts(report: Report):
    return sorted((t.qualname, v.state, v.reason, v.first_read, v.places) for t, v in report.verdicts)


@pytest.mark.parametrize("name", PROJECTS)
def test_the_plain_path_gives_the_same_answers(corpus, name):
    """The project again on the plain path (every file read and parsed whole, no prefilter, no slicing, no
    cache): every finding and fix, and every task's verdict, reason, first read and count of places, the same."""
    fast, plain = report_for(corpus, name), report_for(corpus, name, speed=False)
    assert [(f.format(), f.fix) for f in plain.findings] == [(f.format(), f.fix) for f in fast.findings]
    assert _verdicts(plain) == _verdicts(fast)
    # Both report every file that does not parse (CEL000: nautobot ships two broken files that mention neither
    # Celery nor a task; the fast path checks those with Python's parser) and every file that cannot be read.
    assert fast.errors == plain.errors


@pytest.mark.parametrize("name", PROJECTS)
def test_sliced_sources_are_the_files_own_lines(corpus, name):
    """Every file that mentions Celery, sliced: still Python, and each kept line is the original line it maps
    to (or a ``pass`` standing in for a cut block). A slicing mistake would only cost time (the summary falls
    back to the whole file), so it is checked here directly."""
    root = corpus / name
    checked = 0
    for path in discovery.discover(root, discovery.DEFAULT_EXCLUDES):
        source = path.read_bytes()
        if not prefilter.mentions_celery(source) or parse_statements(source) is None:
            continue
        original = source.splitlines()
        for interest in (Interest(), Interest(["run", "get", "send", "update"])):
            result = slicing.slice_source(source, interest)
            if result.line_numbers is None:
                continue
            checked += 1
            assert parse_statements(result.source) is not None, path
            kept = result.source.splitlines()
            assert len(kept) == len(result.line_numbers)
            assert [line for line, number in zip(kept, result.line_numbers)
                    if line != original[number - 1] and line.strip() != b"pass"] == [], path
    assert checked > 0


@pytest.mark.parametrize("name", PROJECTS)
def test_moved_summaries_equal_fresh_parses(corpus, name):
    """Edits the slicer cuts (a new function at the end, comment lines before a cut statement) of real files:
    the last summary with its lines moved must equal a fresh parse of the edited file (see ``reuse``)."""
    root = corpus / name
    interest = Interest(["run", "get", "send", "update"])
    candidates = [p for p in discovery.discover(root, discovery.DEFAULT_EXCLUDES) if prefilter.mentions_celery(p.read_bytes())]
    moved = 0
    for path in candidates[::max(1, len(candidates) // 8)]:  # about eight files per project
        source = path.read_bytes()
        module, is_package = discovery.module_name(path, root)
        work = Work(source, discovery.relative_to(path, root), module, is_package, interest)
        before = summarise_one(work)
        dropped = slicing.slice_source(source, interest).dropped
        lines = source.splitlines(keepends=True)
        edits = [source + b"\n\ndef _edited_by_the_test():\n    return 42\n"]
        if dropped and dropped[0][0] > 2:
            at = dropped[0][0] - 1
            edits.append(b"".join(lines[:at] + [b"# edited by the test\n", b"\n"] + lines[at:]))
        for number, edited in enumerate(edits):
            result = summarise_one(work._replace(source=edited, previous=(before.summary, before.record)))
            if number == 0 and before.record["fingerprint"] is not None:
                assert result.moved, path  # the new function is cut: nothing the summary reads changed
            if result.moved:
                moved += 1
                fresh = summarise_one(work._replace(source=edited))
                assert (result.summary, result.record) == (fresh.summary, fresh.record), path
    assert moved > 0


# ----- --fix on a copy ------------------------------------------------------------------------------------------

def _compiles(source: bytes) -> bool:
    try:
        compile(source, "<corpus>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def _decorator_lines(source: bytes) -> Set[int]:
    """Lines of every decorator (``@`` line and everything inside its parentheses), and of every
    ``app.task(...)(func)`` registration call (its fix edits the inner call)."""
    tree = ast.parse(source)
    lines: Set[int] = set()
    for node in ast.walk(tree):
        for decorator in getattr(node, "decorator_list", []):  # the expression starts on the ``@`` line
            lines.update(range(decorator.lineno, (decorator.end_lineno or decorator.lineno) + 1))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Call) and isinstance(node.func.func, ast.Attribute) \
                and node.func.func.attr == "task":
            lines.update(range(node.lineno, (node.func.end_lineno or node.lineno) + 1))
    return lines


def _changed_lines(old: bytes, new: bytes):
    """(old line numbers removed or replaced, new line numbers added or replaced), 1-based."""
    a, b = old.splitlines(), new.splitlines()
    removed, added = set(), set()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            removed.update(range(i1 + 1, i2 + 1))
            added.update(range(j1 + 1, j2 + 1))
    return removed, added


def _run_fix(root: Path) -> None:
    from click.testing import CliRunner

    from celery_lint.frontends.cli import main

    result = CliRunner().invoke(main, ["--fix", "--no-cache", "-q", str(root)])
    assert result.exit_code in (0, 1), result.output
    assert "fix not applied" not in result.output


def _snapshot(root: Path) -> Dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*.py")}


@pytest.mark.parametrize("name", PROJECTS)
def test_fix_on_a_copy(corpus, name, tmp_path):
    report = report_for(corpus, name)
    if not any(f.fix is not None for f in report.findings):
        return  # nothing to fix: --fix writes nothing (the analysis of the original already shows it)
    copy = tmp_path / name
    shutil.copytree(corpus / name, copy, ignore=shutil.ignore_patterns(".celery_lint_cache", "__pycache__"))
    before = _snapshot(copy)
    _run_fix(copy)
    after = _snapshot(copy)
    changed = sorted(path for path in before if before[path] != after[path])
    fixable_paths = sorted({f.path for f in report.findings if f.fix is not None})
    assert changed == fixable_paths
    for path in changed:
        old, new = before[path], after[path]
        if _compiles(old):  # files with newer syntax than this Python never compiled: LibCST checked them
            assert _compiles(new), path
        removed, added = _changed_lines(old, new)
        assert removed <= _decorator_lines(old), (path, sorted(removed - _decorator_lines(old)))
        assert added <= _decorator_lines(new), (path, sorted(added - _decorator_lines(new)))
    # a second --fix finds nothing left to fix and changes nothing
    second = engine.analyse_root(copy, config_module.load(copy), use_cache=False)
    assert [f for f in fix_report(second, write=False) if f.new is not None or f.error] == []
    assert [f for f in second.findings if f.fix is not None] == []
    _run_fix(copy)
    assert _snapshot(copy) == after


# ----- ground truth: the maintainers' ignore_result=True --------------------------------------------------------

# (stripped, recovered as CEL001); every miss is explained in tests/corpus/README.md
GROUND_TRUTH = {
    "mayan-edms-4.12.2": (68, 55),
    "invenio-rdm-records-36.0.0": (11, 3),
    "invenio-records-resources-11.1.2": (6, 5),
}


@pytest.mark.parametrize("name", sorted(GROUND_TRUTH))
def test_ground_truth_from_the_maintainers(corpus, name):
    result = ground_truth.ground_truth(corpus / name)
    stripped, recovered = GROUND_TRUTH[name]
    assert len(result.stripped) == stripped
    assert result.not_found == []
    assert len(result.recovered) == recovered, ground_truth.format_table([result])
    # every miss is a task this project never enqueues itself (beat entries registered by dotted path at run time,
    # callers in other packages, or a task handed on to library code that enqueues it): never one whose result
    # we wrongly think is read
    for miss in result.misses:
        assert miss.state == "unused" or miss.reason.startswith("handed on as a value"), \
            ground_truth.format_table([result])
    # Mayan's chord headers keep ignore_result=False against the global True: they must never get CEL001
    assert result.kept_false_flagged == []
    if name.startswith("mayan-edms"):
        assert result.globals_stripped == ["mayan/settings/base.py:384"]
        assert sorted(result.kept_false) == [
            "mayan.apps.converter.tasks.task_content_object_image_generate",
            "mayan.apps.file_metadata.tasks.task_metadata_driver_process",
            "mayan.apps.ocr.tasks.task_document_version_page_ocr_process",
        ]
