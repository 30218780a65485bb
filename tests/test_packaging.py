"""What a user installs: the sdist and the wheel, built as ``python -m build`` builds them (the sdist first, the
wheel from it). The sdist holds the package, README.md, LICENSE and docs/, and no tests (they need a checkout:
see MANIFEST.in); the wheel holds the package and the licence."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser

import pytest

from helpers import REPO

pytestmark = pytest.mark.slow  # an isolated build installs setuptools first: half a minute

LEFT_OUT = ("tests/", "fixtures/", "examples/", "bench/", ".ci/")
NOT_COPIED = shutil.ignore_patterns(".git", ".venv", ".ci-venv", ".corpus", "*.egg-info", "__pycache__", "build",
                                    "dist", ".celery_lint_cache", ".pytest_cache")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(sdist member paths without the top folder, wheel member paths, the wheel's METADATA), from a copy of
    the checkout (a build writes into the tree it builds)."""
    root = tmp_path_factory.mktemp("build")
    shutil.copytree(REPO, root / "src", ignore=NOT_COPIED)
    result = subprocess.run([sys.executable, "-m", "build", "--outdir", str(root / "dist"), str(root / "src")],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (sdist,), (wheel,) = (root / "dist").glob("*.tar.gz"), (root / "dist").glob("*.whl")
    with tarfile.open(sdist) as archive:
        sdist_paths = {name.partition("/")[2] for name in archive.getnames()}
    with zipfile.ZipFile(wheel) as archive:
        wheel_paths = set(archive.namelist())
        metadata = archive.read(next(p for p in wheel_paths if p.endswith(".dist-info/METADATA"))).decode()
    return sdist_paths, wheel_paths, Parser().parsestr(metadata)


def package_files():
    return {p.relative_to(REPO).as_posix() for p in (REPO / "celery_lint").rglob("*.py")}


def test_the_sdist_holds_the_package_readme_licence_and_docs_and_no_tests(built):
    sdist, _, _ = built
    assert {"LICENSE", "README.md", "pyproject.toml", "PKG-INFO"} <= sdist
    assert package_files() <= sdist
    assert {p.relative_to(REPO).as_posix() for p in (REPO / "docs").glob("*.md")} <= sdist
    assert not [p for p in sdist if p.startswith(LEFT_OUT)]  # the tests need a checkout (MANIFEST.in)


def test_the_wheel_holds_the_package_and_the_licence(built):
    _, wheel, metadata = built
    assert {p for p in wheel if p.startswith("celery_lint/")} == package_files()
    assert any(p.endswith(".dist-info/licenses/LICENSE") for p in wheel)
    assert metadata["License-Expression"] == "MIT"
    assert "Copyright (c) 2026 celery-lint contributors" in (REPO / "LICENSE").read_text()
    assert metadata.get_payload().startswith("# celery-lint\n")  # the README is the package description
