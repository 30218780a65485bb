"""Shared helpers: build a small project on disk and lint it through the real engine."""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Dict, List

import pytest

from celery_lint import config as config_module
from celery_lint import engine

REPO = Path(__file__).resolve().parent.parent


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


def lint(root: Path) -> List[str]:
    """Findings as the CLI prints them (paths relative to the root), without using the cache."""
    report = engine.analyse_root(root, config_module.load(root), use_cache=False)
    return [f.format() for f in report.findings]


@pytest.fixture
def project(tmp_path):
    def build(files: Dict[str, str]) -> Path:
        return write_project(tmp_path / "proj", files)

    return build
