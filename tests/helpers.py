"""Helpers shared by the tests that run celery-lint as a user would: a small project on disk, the real CLI
in a subprocess (with a deadline, so a hang fails instead of stalling the suite), and runs as a non-root user."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, List, Optional

REPO = Path(__file__).resolve().parent.parent
NOBODY = 65534  # uid and gid of Debian's ``nobody``/``nogroup``
DEADLINE_S = 120  # a run that takes this long has hung: every test here finishes in a few seconds


def write(root: Path, files: Dict[str, str]) -> Path:
    """``files`` ({relative path: source}) under ``root``, dedented, with a pyproject.toml marking the root."""
    root.mkdir(parents=True, exist_ok=True)
    if "pyproject.toml" not in files:
        (root / "pyproject.toml").write_text("[project]\nname = 'example'\n")
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


KEPT_BY_GLOBAL_FIX = re.compile(r"set ignore_result=False on the tasks whose results are read or may be read "
                                r"\(\d+\): (.*)")


def kept_by_global_fix(stderr: str) -> List[str]:
    """The tasks ``--fix --strategy global`` says it keeps storing (ignore_result=False), as qualnames (or the
    names they are registered under), from its stderr; [] when it prints no such line."""
    kept = [match.group(1) for match in map(KEPT_BY_GLOBAL_FIX.search, stderr.splitlines()) if match]
    assert len(kept) <= 1, stderr
    return [entry.split(" (")[0] for entry in kept[0].split(", ")] if kept else []


def cli(cwd: Path, *args: str, user: Optional[int] = None, timeout: float = DEADLINE_S,
        env: Optional[dict] = None, bound_by_permissions: bool = False) -> subprocess.CompletedProcess:
    """``celery-lint ARGS`` in ``cwd``; as ``user`` (a uid) when given and we are root; with
    ``bound_by_permissions``, as root without the capabilities that let root read and write any file."""
    return run([sys.executable, "-m", "celery_lint", *args], cwd, user, timeout, env, bound_by_permissions)


def flake8(cwd: Path, *args: str, user: Optional[int] = None, timeout: float = DEADLINE_S) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "flake8", "--select", "CEL", *args], cwd, user, timeout)


def run(command, cwd: Path, user: Optional[int] = None, timeout: float = DEADLINE_S,
        env: Optional[dict] = None, bound_by_permissions: bool = False) -> subprocess.CompletedProcess:
    def drop_privileges():
        if bound_by_permissions:
            _drop_file_capabilities()
        if user is not None:
            os.setgroups([])
            os.setgid(user)
            os.setuid(user)

    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    privileged = os.geteuid() == 0 and (user is not None or bound_by_permissions)
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=environment,
                          preexec_fn=drop_privileges if privileged else None)


def _drop_file_capabilities() -> None:
    """Root keeps every capability across exec unless it leaves the bounding set: without CAP_DAC_OVERRIDE (1)
    and CAP_DAC_READ_SEARCH (2), file modes apply to root as to anyone (the interpreter stays usable)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # 24: PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "PR_CAPBSET_DROP")


def as_root() -> bool:
    return os.geteuid() == 0


def children(pid: int) -> set:
    """The pids of a process's children (Linux /proc): the worker processes a run started."""
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found.update(int(c) for c in (task / "children").read_text().split())
        except OSError:
            pass
    return found


# The task module most value-flow fixtures share: two tasks, a Redis backend.
RENDER_AND_AUDIT = """
    from celery import Celery

    app = Celery("proj", backend="redis://")


    @app.task
    def render(x):
        return x


    @app.task
    def audit(x):
        pass
"""
