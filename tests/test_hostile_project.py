"""Hostile project files, names and signals (issue 24): a line of output, never a hang, a traceback or a
silent gap. Every run goes through the real CLI in a subprocess with a deadline."""
from __future__ import annotations

import pytest

from helpers import cli, write

APP = 'from celery import Celery\n\napp = Celery("shop", backend="redis://")\n'
TASKS = "from shop.celery import app\n\n\n@app.task\ndef ping():\n    return None\n"
VIEWS = "from shop.tasks import ping\n\n\ndef view():\n    ping.delay()\n"
FINDING = ("shop/tasks.py:4:1: CEL001 result of task 'shop.tasks.ping' is stored but never read "
           "(enqueued at 1 place); add ignore_result=True\n")


def shop(root, **more):
    return write(root, {"shop/__init__.py": "", "shop/celery.py": APP, "shop/tasks.py": TASKS,
                        "shop/views.py": VIEWS, **more})


# ----- 3. a size under one byte ----------------------------------------------------------------------------------

@pytest.mark.parametrize("size", ['"0.0000001KB"', '"0.5"', '"0.9B"'])
def test_a_max_file_size_under_one_byte_is_a_config_error(tmp_path, size):
    """``max-file-size = "0.0000001KB"`` was taken as 0: every file skipped."""
    root = shop(tmp_path / "proj", **{"pyproject.toml": f"[tool.celery-lint]\nmax-file-size = {size}\n"})
    result = cli(root, "-q", "--no-cache", ".")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (f"celery-lint: error: {root / 'pyproject.toml'} [tool.celery-lint]: max-file-size must be "
                             f"at least 1 byte, got {size.replace(chr(34), chr(39))} (under 1 byte); give a size "
                             'such as "10MB"\n')


def test_a_max_file_size_of_one_byte_is_accepted(tmp_path):
    root = shop(tmp_path / "proj", **{"pyproject.toml": '[tool.celery-lint]\nmax-file-size = "0.001KB"\n'})
    result = cli(root, "-q", "--no-cache", ".")
    assert "shop/tasks.py: error: skipped: 68 bytes is over max-file-size (1 byte)\n" in result.stderr
    assert result.returncode == 1
