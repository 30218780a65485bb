"""Discovery, excludes, the project root and module names."""
from __future__ import annotations

from pathlib import Path

import pytest

from celery_lint import discovery


def touch(root: Path, *relatives: str) -> None:
    for relative in relatives:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")


@pytest.mark.parametrize("relative,expected", [
    ("shop/tasks.py", ("shop.tasks", False)),
    ("shop/__init__.py", ("shop", True)),
    ("src/lib/jobs/tasks.py", ("lib.jobs.tasks", False)),  # src layout
    ("shop/base/models.py", ("shop.base.models", False)),  # a directory without __init__ inside a package
    ("scripts/run.py", ("run", False)),  # loose scripts import each other by file name
])
def test_module_names(tmp_path, relative, expected):
    touch(tmp_path, "pyproject.toml", "shop/__init__.py", "src/lib/__init__.py", "src/lib/jobs/__init__.py",
          "shop/base/models.py", "scripts/run.py", "shop/tasks.py", "src/lib/jobs/tasks.py")
    assert discovery.module_name(tmp_path / relative, tmp_path) == expected


def test_root_is_the_nearest_marker(tmp_path):
    touch(tmp_path, "setup.cfg", "pkg/sub/mod.py")
    assert discovery.find_root(tmp_path / "pkg" / "sub" / "mod.py") == tmp_path.resolve()


def test_discovery_skips_default_and_configured_excludes(tmp_path):
    touch(tmp_path, "app/tasks.py", ".venv/lib/x.py", "build/y.py", "node_modules/z.py", "app/migrations/0001.py",
          "docs/conf.py", "app/readme.txt")
    found = discovery.discover(tmp_path, discovery.DEFAULT_EXCLUDES + ("migrations", "docs/*"))
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["app/tasks.py"]


def test_an_empty_exclude_list_excludes_nothing(tmp_path):
    """``exclude = []`` (no defaults either) made one empty pattern that matched every path: no files at all."""
    touch(tmp_path, "app/tasks.py", "build/y.py")
    found = discovery.discover(tmp_path, ())
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["app/tasks.py", "build/y.py"]
    assert not discovery.is_excluded("app/tasks.py", ())


def _is_excluded_by_regex(relative: str, patterns: tuple) -> bool:
    """The matching before plain names got a set: every pattern compiled (for patterns it was right for)."""
    import fnmatch
    import re

    whole = [fnmatch.translate(p.rstrip("/")) for p in patterns] + [fnmatch.translate(p.rstrip("/") + "/*") for p in patterns]
    parts = [fnmatch.translate(p) for p in patterns if "/" not in p.rstrip("/")]
    return bool(re.match("|".join(whole), relative)) or any(re.match("|".join(parts) or "(?!)", part)
                                                            for part in relative.split("/"))


@pytest.mark.parametrize("patterns", [
    discovery.DEFAULT_EXCLUDES, ("migrations", "docs/*"), ("build/",), ("*.py",), ("app/tasks.py",), ("t?sts",),
    ("[ab]pp",), ("venv", "app/*/x.py", "*_pb2.py"), (".git",),
])
@pytest.mark.parametrize("relative", [
    "app/tasks.py", "venv/lib/x.py", "app/venv/x.py", "build/y.py", "app/build/y.py", "docs/conf.py", "a/docs/c.py",
    "app/migrations/0001.py", "tests/t.py", "tsts/t.py", "bpp/x.py", "app/sub/x.py", "gen/m_pb2.py", "app.git/x.py",
])
def test_excludes_match_as_the_compiled_patterns_did(relative, patterns):
    assert discovery.is_excluded(relative, patterns) == _is_excluded_by_regex(relative, patterns)


def test_without_a_marker_the_current_directory_is_the_project_unless_it_is_root_or_home(tmp_path, monkeypatch):
    """Run from ``/`` on a project without a marker, celery-lint took ``/`` for the project and read the whole
    machine (ten minutes and 900 MB before it was stopped); from the home directory, all of it."""
    touch(tmp_path, "app/shop/__init__.py", "app/shop/tasks.py", "app/manage_it.py")
    shop = tmp_path / "app" / "shop"
    assert discovery.locate_root(shop / "tasks.py", cwd=tmp_path) == (tmp_path, False)
    assert discovery.locate_root(shop / "tasks.py", cwd=Path("/")) == (tmp_path / "app", False)
    assert discovery.locate_root(tmp_path / "app", cwd=Path("/")) == (tmp_path / "app", False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert discovery.locate_root(shop / "tasks.py", cwd=tmp_path) == (tmp_path / "app", False)
