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
