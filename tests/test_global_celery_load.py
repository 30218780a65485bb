"""The global flag as written by ``--strategy global`` is a configuration Celery accepts: each fixed fixture's app
is loaded by a real Celery (the ``[test]`` extra), its configuration read (``app.conf``, which raises
ImproperlyConfigured on a mix of old and new setting names), checked by ``find_deprecated_settings`` and listed
by ``conf.table()``, and every task without its own flag ignores its result."""
from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

CASES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "global_strategy"
# case -> the module making the app, and the app's name there
APPS = {
    "celery_app": "feeds.celery:app",
    "celeryconfig": "mailer.app:app",
    "conf_update": "worker.app:app",
    "django": "proj.celery:app",
    "old_style": "tracker.celery_app:celery",
}
# Loads the app the way a worker would, with Django's settings object stood in for by the settings module
# (``django.conf:settings`` is all Celery asks of Django here).
LOAD = textwrap.dedent("""
    import importlib, os, sys, types
    sys.path.insert(0, os.getcwd())
    django = types.ModuleType("django")
    django.VERSION = (5, 0, 0, "final", 0)
    conf = types.ModuleType("django.conf")
    class LazySettings:
        def __getattr__(self, name):
            return getattr(importlib.import_module(os.environ["DJANGO_SETTINGS_MODULE"]), name)
        def __dir__(self):
            return dir(importlib.import_module(os.environ["DJANGO_SETTINGS_MODULE"]))
    conf.settings = LazySettings()
    django.conf = conf
    sys.modules.update({"django": django, "django.conf": conf})
    from celery.app.defaults import find_deprecated_settings
    module, _, name = sys.argv[1].partition(":")
    app = getattr(importlib.import_module(module), name)
    app.conf.table()  # every setting: raises ImproperlyConfigured on a mix of old and new names
    find_deprecated_settings(app.conf)
    print(app.conf.task_ignore_result, app.conf.result_backend)
""")


def fixed_copy(case: str, tmp_path: Path) -> Path:
    root = Path(shutil.copytree(CASES_DIR / case / "project", tmp_path / case))
    shutil.copytree(CASES_DIR / case / "fixed_global", root, dirs_exist_ok=True)
    return root


@pytest.mark.parametrize("case", sorted(APPS))
def test_celery_loads_the_fixed_configuration_with_the_flag_on(case, tmp_path):
    root = fixed_copy(case, tmp_path)
    result = subprocess.run([sys.executable, "-c", LOAD, APPS[case]], cwd=root, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin"}, timeout=60)
    assert "ImproperlyConfigured" not in result.stderr
    assert result.returncode == 0, result.stderr
    ignore, backend = result.stdout.split()
    assert ignore == "True" and backend != "None"


def test_the_new_name_beside_old_ones_is_what_celery_refuses(tmp_path):
    """The check above can fail: ``task_ignore_result=True`` among old-style names is refused."""
    root = fixed_copy("old_style", tmp_path)
    app = root / "tracker" / "celery_app.py"
    app.write_text(app.read_text().replace("CELERY_IGNORE_RESULT=True", "task_ignore_result=True"))
    result = subprocess.run([sys.executable, "-c", LOAD, APPS["old_style"]], cwd=root, capture_output=True,
                            text=True, env={"PATH": "/usr/bin:/bin"}, timeout=60)
    assert "ImproperlyConfigured" in result.stderr and "Cannot mix new setting names with old" in result.stderr


def test_every_fixed_case_is_loaded():
    from test_global_strategy import FIXED

    assert sorted(APPS) == sorted(FIXED)
