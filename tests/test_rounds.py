"""The fast path's rounds: a name found in one round makes files the earlier rounds passed over matter, and a
later round must find them (rounds.py asks a file found unreachable only about the names added since)."""
from __future__ import annotations

import shutil

import pytest
from pathlib import Path

from celery_lint import config as config_module
from celery_lint import engine
from celery_lint.speed.cache import Cache
from celery_lint.speed.cache_dir import CACHE_DIRNAME

from helpers import write

TASKS = '''from celery import shared_task

from shop.models import Order


@shared_task
def render(order_id):
    return Order.render(order_id)


@shared_task
def notify(order_id):
    Order.notify(order_id)


def start_render(order_id):
    return render.delay(order_id)
'''
# No Celery token and no task name: only the helper's name (found by the first round's summary) reaches it.
VIEWS = '''from shop.tasks import start_render


def invoice(request, order_id):
    return start_render(order_id).get(timeout=10)
'''
# Re-exports everything: matters whatever the names are.
API = '''from shop.tasks import *  # noqa: F403


def resend(order_id):
    return start_render(order_id).get(timeout=10)
'''
SIGNALS = '''from shop.tasks import notify


def on_paid(order):
    notify.delay(order.id)
'''


def findings(root: Path, speed: bool):
    report = engine.analyse_root(root, config_module.load(root), use_cache=speed, speed=speed, jobs=1)
    return [(f.path, f.line, f.code) for f in report.findings], report


def summarised(root: Path) -> list:
    """The files the fast path summarised (its cache keeps their summaries)."""
    cache = Cache(root / CACHE_DIRNAME)
    with cache.exclusive():
        return sorted(path for path, entry in cache.entries.items() if entry.summary is not None)


def test_a_name_found_in_a_later_round_reaches_files_an_earlier_round_passed_over(tmp_path):
    files = {"pyproject.toml": "", "shop/__init__.py": "", "shop/models.py": "class Order:\n    pass\n",
             "shop/celery.py": "from celery import Celery\n\napp = Celery('shop', backend='redis://')\n",
             "shop/tasks.py": TASKS, "shop/views.py": VIEWS, "shop/signals.py": SIGNALS}
    root = write(tmp_path, files)
    fast, _ = findings(root, speed=True)
    assert fast == [("shop/tasks.py", 11, "CEL001")]  # notify; render's result is read through the helper
    assert findings(root, speed=False)[0] == fast
    # views.py names no task: the first round passed over it; start_render's name, found then, reaches it
    assert summarised(root) == ["shop/celery.py", "shop/signals.py", "shop/tasks.py", "shop/views.py"]
    shutil.rmtree(root / CACHE_DIRNAME)
    (root / "shop/views.py").unlink()
    (root / "shop/api.py").write_text(API)  # a star import: it matters whatever the names
    assert findings(root, speed=True)[0] == [("shop/tasks.py", 11, "CEL001")]
    assert summarised(root) == ["shop/api.py", "shop/celery.py", "shop/signals.py", "shop/tasks.py"]


PROGRESS_TASKS = '''from celery import current_task, shared_task


def report(done):
    current_task.update_state(state="PROGRESS", meta={"done": done})


def step(done):
    report(done)


@shared_task
def rebuild(count):
    for done in range(count):
        step(done)


@shared_task
def notify(order_id):
    print(order_id)
'''
PROGRESS_VIEWS = '''from shop.tasks import notify, rebuild


def start(request):
    rebuild.delay(10)
    notify.delay(1)
'''


def test_a_helper_of_a_helper_in_the_same_file_is_followed_before_the_file_returns(tmp_path):
    # ``step`` reports progress through ``report``, and the task calls ``step``: each level is found only once
    # the one below is. The worker follows them in the file itself, so no later round parses tasks.py again.
    files = {"pyproject.toml": "", "shop/__init__.py": "",
             "shop/celery.py": "from celery import Celery\n\napp = Celery('shop', backend='redis://')\n",
             "shop/tasks.py": PROGRESS_TASKS, "shop/views.py": PROGRESS_VIEWS}
    root = write(tmp_path, files)
    fast, report = findings(root, speed=True)
    assert fast == [("shop/tasks.py", 18, "CEL001")]  # notify; rebuild reports progress: someone polls it
    assert findings(root, speed=False)[0] == fast
    assert summarised(root) == ["shop/celery.py", "shop/tasks.py", "shop/views.py"]
    assert report.parsed == 3  # each file once


RETRY_TASKS = '''from celery import shared_task

from shop.options import RETRY_OPTIONS


@shared_task(
    bind=True,
    **RETRY_OPTIONS,
)
def sync(self, order_id):
    print(order_id)
'''
RETRY_VIEWS = '''from shop.options import RETRY_OPTIONS
from shop.tasks import sync


def start(request):
    sync.delay(1)
    return RETRY_OPTIONS
'''


def test_options_spread_into_a_task_decorator_are_read_where_they_are_defined(tmp_path):
    # ``**RETRY_OPTIONS`` may set ignore_result. options.py names no Celery word and imports nothing: only the
    # decorator's reference leads to it, and the fast path reads it as the plain path does (it said "ignore_result
    # may already be set" where the plain path reported the task). Each file is parsed once: the first round's
    # guess at names (from the text) already has RETRY_OPTIONS, so views.py is sliced for it at once.
    files = {"pyproject.toml": "", "shop/__init__.py": "",
             "shop/celery.py": "from celery import Celery\n\napp = Celery('shop', backend='redis://')\n",
             "shop/options.py": "RETRY_OPTIONS = {'max_retries': 3}\n",
             "shop/tasks.py": RETRY_TASKS, "shop/views.py": RETRY_VIEWS}
    root = write(tmp_path, files)
    fast, report = findings(root, speed=True)
    assert fast == [("shop/tasks.py", 6, "CEL001")]
    assert findings(root, speed=False)[0] == fast
    assert summarised(root) == ["shop/celery.py", "shop/options.py", "shop/tasks.py", "shop/views.py"]
    assert report.parsed == 4  # each file once
    (root / "shop/options.py").write_text("RETRY_OPTIONS = {'max_retries': 3, 'ignore_result': True}\n")
    assert findings(root, speed=True)[0] == findings(root, speed=False)[0] == []


CELERY_APP = "from celery import Celery\n\napp = Celery('proj', backend='redis://')\n"
USES_T = "from proj.tasks import t\n\n\ndef v():\n    t.delay(1)\n"
TASK_WITH = "from proj.celery import app\n{imports}\n\n@app.task({options})\ndef t(x):\n    return x\n"
DEFINED_ELSEWHERE = {  # what the decorator names, where it is defined -> the findings (both paths)
    "options re-exported by the package": (
        {"proj/__init__.py": "from proj.opts import OPTS\n", "proj/opts.py": "OPTS = {'max_retries': 2}\n"},
        "from proj import OPTS", "**OPTS", [("proj/tasks.py", 4, "CEL001")]),
    "options imported under another name": (
        {"proj/opts.py": "LIMITS = {'ignore_result': True}\n"},
        "from proj.opts import LIMITS as OPTS", "**OPTS", []),
    "a base class in a module with no Celery word": (
        {"proj/lib.py": "class Logged:\n    pass\n",
         "proj/base.py": "from proj.lib import Logged\n\n\nclass Audited(Logged):\n    retries = 3\n"},
        "from proj.base import Audited", "base=Audited", [("proj/tasks.py", 4, "CEL001")]),
    "its base class ignoring results": (
        {"proj/lib.py": "class Logged:\n    ignore_result = True\n",
         "proj/base.py": "from proj.lib import Logged\n\n\nclass Audited(Logged):\n    retries = 3\n"},
        "from proj.base import Audited", "base=Audited", []),
    "a base class re-exported by the app's module": (
        {"proj/celery.py": CELERY_APP + "from proj.base import *  # noqa\n",
         "proj/base.py": "class Audited:\n    retries = 3\n"},
        "from proj.celery import Audited", "base=Audited", [("proj/tasks.py", 4, "CEL001")]),
}


@pytest.mark.parametrize("case", DEFINED_ELSEWHERE)
def test_what_a_task_decorator_names_is_read_where_it_is_defined(tmp_path, case):
    # The defining module may hold no Celery word and import nothing of interest: the rounds follow the
    # decorator's references there (speed/defining_modules.py), so the fast path reads what the plain path reads.
    extra, imports, options, expected = DEFINED_ELSEWHERE[case]
    files = {"pyproject.toml": "", "proj/__init__.py": "", "proj/celery.py": CELERY_APP, "proj/views.py": USES_T,
             "proj/tasks.py": TASK_WITH.format(imports=imports, options=options), **extra}
    root = write(tmp_path, files)
    assert findings(root, speed=False)[0] == expected
    assert findings(root, speed=True)[0] == expected
