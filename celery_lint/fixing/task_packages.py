"""Can an installed package define Celery tasks? For the global strategy's warning: the flag reaches the tasks of
every package registered on the app (``INSTALLED_APPS``, ``autodiscover_tasks([...])``), and the ones worth a line
are those that may hold tasks.

Looked up in the environment celery-lint runs in, without importing anything: the package's folder on
``sys.path`` and whether any of its files mentions Celery. A package that is not installed here cannot be
looked at: it may define tasks.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterable, Optional

MAX_FILES = 2000  # a package bigger than this is taken as one that may define tasks (never read whole)
CELERY_WORDS = (b"celery", b"shared_task")


def can_define_tasks(dotted: str, what: str, search: Optional[Iterable[str]] = None) -> bool:
    """``Celery(include=[...])`` names task modules: always. Otherwise the package's files are looked at."""
    if what.startswith("Celery(include"):
        return True
    folder = _package_folder(dotted, sys.path if search is None else search)
    if folder is None:
        return True  # not installed here: it may
    if folder.is_file():
        return _mentions_celery(folder)
    for count, path in enumerate(folder.rglob("*.py")):
        if count >= MAX_FILES or _mentions_celery(path):
            return True
    return False


def _package_folder(dotted: str, search: Iterable[str]) -> Optional[Path]:
    """Where ``dotted`` (``orders``, ``orders.apps.OrdersConfig``) lives: its top package's folder or module."""
    top = dotted.split(".")[0]
    for entry in search:
        base = Path(entry or ".")
        for candidate in (base / top, base / f"{top}.py"):
            try:
                if candidate.is_dir() or candidate.is_file():
                    return candidate
            except OSError:
                continue
    return None


def _mentions_celery(path: Path) -> bool:
    try:
        text = path.read_bytes().lower()
    except OSError:
        return True
    return any(word in text for word in CELERY_WORDS)
