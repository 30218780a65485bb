"""``check --fix --strategy global``: the global flag written once where the backend is configured, exact edits
on the fixture projects (fixtures/global_strategy/<case>/{project,fixed_global}), nothing changed when the
place is ambiguous, the "also reaches" list shown, and CEL002 guarding the flip afterwards."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from helpers import cli, write

CASES_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "global_strategy"
FIXED = ["celery_app", "celeryconfig", "conf_update", "django", "old_style"]  # cases the global fix applies to
SHOP = Path(__file__).resolve().parent.parent / "examples" / "shop"
PREFIX = "celery-lint: --strategy global"


def sources(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.py"))}


def copy(case: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(CASES_DIR / case / "project", tmp_path / case))


def check(root: Path, *args: str):
    return cli(root, "--no-cache", *args, ".")


@pytest.mark.parametrize("case", FIXED)
def test_global_fix_gives_exact_source_and_is_idempotent(case, tmp_path):
    root = copy(case, tmp_path)
    before = sources(root)
    result = check(root, "--fix", "--strategy", "global")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    after = sources(root)
    assert after == {**before, **sources(CASES_DIR / case / "fixed_global")}  # byte for byte, untouched files too
    again = check(root, "--fix", "--strategy", "global")
    assert sources(root) == after
    assert again.returncode == 0
    assert f"{PREFIX}: nothing to change" in again.stderr
    assert check(root).stdout == "All checks passed!\n"  # the per-task rules agree with the result


@pytest.mark.parametrize("case", FIXED)
def test_global_diff_writes_nothing(case, tmp_path):
    root = copy(case, tmp_path)
    before = sources(root)
    result = check(root, "--diff", "--strategy", "global")
    assert sources(root) == before
    changed = sorted(sources(CASES_DIR / case / "fixed_global"))
    assert sorted(line[len("+++ b/"):] for line in result.stdout.splitlines() if line.startswith("+++ b/")) == changed


def test_without_fix_it_prints_the_plan_and_writes_nothing(tmp_path):
    root = copy("django", tmp_path)
    before = sources(root)
    result = check(root, "--strategy", "global")
    assert sources(root) == before
    plan = [line for line in result.stderr.splitlines() if line.startswith(PREFIX)]
    assert plan == [
        f"{PREFIX}: warning: the global flag also reaches tasks the analysis cannot see; they stop storing results "
        "unless they set ignore_result=False:",
        f"{PREFIX}: would write CELERY_TASK_IGNORE_RESULT = True beside CELERY_RESULT_BACKEND at proj/settings.py:12",
        f"{PREFIX}: would set ignore_result=False on the tasks whose results are read or may be read (3): "
        "orders.tasks.charge (orders/tasks.py:14), orders.refund (orders/tasks.py:19), "
        "orders.tasks.rebuild_search_index (orders/tasks.py:32)",
        f"{PREFIX}: would remove the now redundant ignore_result=True flags (1): orders.tasks.log_view (orders/tasks.py:9)",
    ]
    assert result.returncode == 1  # the findings are still there


@pytest.mark.parametrize("case, reaches", [
    ("django", ["  django_celery_results  (INSTALLED_APPS at proj/settings.py:6)",
                "  payments_sdk  (INSTALLED_APPS at proj/settings.py:7)"]),
    ("conf_update", ["  vendor_plugins.tasks  (Celery(include=...) at worker/app.py:3)",
                     "  vendor_billing  (autodiscover_tasks() at worker/app.py:5)"]),
])
def test_what_the_flag_also_reaches_is_listed_before_writing(case, reaches, tmp_path):
    root = copy(case, tmp_path)
    lines = check(root, "--fix", "--strategy", "global").stderr.splitlines()
    start = lines.index(f"{PREFIX}: warning: the global flag also reaches tasks the analysis cannot see; they stop "
                        "storing results unless they set ignore_result=False:")
    assert lines[start + 1:start + 1 + len(reaches)] == reaches
    assert start < next(i for i, line in enumerate(lines) if line.startswith(f"{PREFIX}: wrote"))


def test_strategy_from_pyproject(tmp_path):
    root = copy("conf_update", tmp_path)
    (root / "pyproject.toml").write_text('[project]\nname = "worker"\n\n[tool.celery-lint]\nstrategy = "global"\n')
    check(root, "--fix")
    assert sources(root) == {**sources(CASES_DIR / "conf_update" / "project"),
                             **sources(CASES_DIR / "conf_update" / "fixed_global")}


def test_strategy_option_overrides_the_config(tmp_path):
    root = copy("conf_update", tmp_path)
    (root / "pyproject.toml").write_text('[project]\nname = "worker"\n\n[tool.celery-lint]\nstrategy = "global"\n')
    check(root, "--fix", "--strategy", "per-task")
    assert b"task_ignore_result" not in (root / "worker" / "app.py").read_bytes()
    assert b"@app.task(ignore_result=True)\ndef resize" in (root / "worker" / "jobs.py").read_bytes()


def test_bad_strategy_in_config_names_the_file(tmp_path):
    root = copy("conf_update", tmp_path)
    (root / "pyproject.toml").write_text('[tool.celery-lint]\nstrategy = "globally"\n')
    result = check(root)
    assert result.returncode == 2
    assert "pyproject.toml [tool.celery-lint]: strategy must be one of per-task, global; got 'globally'" in result.stderr


def test_ambiguous_fixture_changes_nothing_and_says_why(tmp_path):
    root = copy("ambiguous", tmp_path)
    before = sources(root)
    result = check(root, "--fix", "--strategy", "global")
    assert sources(root) == before
    assert result.returncode == 2
    assert (f"{PREFIX}: not applied, nothing changed: several Celery apps (twoapps/billing.py:3, twoapps/search.py:3): "
            "the flag would reach only one") in result.stderr.splitlines()


TASKS = """
    from .app import app


    @app.task
    def ping():
        return None


    @app.task
    def add(x, y):
        return x + y
"""
VIEWS = """
    from .tasks import add, ping


    def view():
        ping.delay()
        return add.delay(1, 2).get(timeout=5)
"""
APP = 'from celery import Celery\n\napp = Celery("proj", backend="redis://")\n'


@pytest.mark.parametrize("files, reason", [
    ({"proj/app.py": APP + 'app.config_from_envvar("PROJ_CONFIG")\n'},
     "the config is chosen at run time (config_from_envvar at proj/app.py:4)"),
    ({"proj/app.py": APP + 'app.conf.task_annotations = {"*": {"ignore_result": False}}\n'},
     "task_annotations at proj/app.py:4 may set ignore_result for any task"),
    ({"proj/app.py": 'from celery import Celery\n\napp = Celery("proj")\napp.config_from_object("ops_settings")\n'},
     "the config comes from a module outside the project (config_from_object at proj/app.py:4 (ops_settings))"),
    ({"proj/app.py": 'from celery import Celery\n\napp = Celery("proj")\napp.config_from_object("proj.settings")\n',
      "proj/settings/__init__.py": "from .base import *\nfrom .prod import *\n",
      "proj/settings/base.py": 'result_backend = "redis://a"\n', "proj/settings/prod.py": 'result_backend = "redis://b"\n'},
     "several places configure the backend (proj/settings/base.py:1, proj/settings/prod.py:1)"),
    ({"proj/app.py": 'from celery import Celery\n\napp = Celery("proj")\n'},
     "the project gives its app no result backend: nothing is stored, the flag would change nothing"),
    ({"proj/app.py": APP + "app.conf.update(load_overrides())\n"},
     "conf.update() at proj/app.py:4 loads settings celery-lint cannot read, which may name them in the other "
     "style (Celery refuses a mix of old and new setting names)"),
    ({"proj/app.py": APP + "app.conf.task_ignore_result = False\n"},
     "task_ignore_result = False is set at proj/app.py:4: change it to True by hand"),
    ({"proj/app.py": 'from celery import Celery\n\n\ndef make():\n'
                     '    return Celery("proj", backend="redis://")\n\n\napp = make()\n'},
     "the app made at proj/app.py:5 is not assigned to a name; write it by hand"),
])
def test_ambiguous_places_change_nothing(files, reason, tmp_path):
    root = write(tmp_path / "p", {"proj/__init__.py": "", "proj/tasks.py": TASKS, "proj/views.py": VIEWS, **files})
    before = sources(root)
    result = check(root, "--fix", "--strategy", "global")
    assert sources(root) == before
    assert f"{PREFIX}: not applied, nothing changed: {reason}" in result.stderr.splitlines()
    assert result.returncode == 2
    # nothing contradicts the refusal: no "All checks passed!", no fix on offer
    assert "All checks passed!" not in result.stdout and "fixable with --fix" not in result.stdout
    planned = check(root, "--strategy", "global")
    assert "All checks passed!" not in planned.stdout and "fixable with --fix" not in planned.stdout
    diffed = check(root, "--diff", "--strategy", "global")
    assert diffed.stdout == "" and "Would fix" not in diffed.stderr


def test_a_read_task_that_cannot_be_marked_stops_the_plan(tmp_path):
    tasks = """
        from celery import Task

        from .app import app


        @app.task
        def ping():
            return None


        class Add(Task):
            name = "proj.add"

            def run(self, x, y):
                return x + y


        add = app.register_task(Add())
    """
    views = """
        from .tasks import ping


        def view(app):
            ping.delay()
            return app.send_task("proj.add", (1, 2)).get(timeout=5)
    """
    root = write(tmp_path / "p", {"proj/__init__.py": "", "proj/app.py": APP, "proj/tasks.py": tasks,
                                  "proj/views.py": views})
    before = sources(root)
    result = check(root, "--fix", "--strategy", "global")
    assert sources(root) == before
    assert (f"{PREFIX}: not applied, nothing changed: these tasks must keep storing but ignore_result=False cannot be "
            "added to them, so the global flag would silently stop them: proj.add (proj/tasks.py:12); set it by hand "
            "first") in result.stderr.splitlines()


def test_nothing_to_gain_changes_nothing(tmp_path):
    root = write(tmp_path / "p", {"proj/__init__.py": "", "proj/app.py": APP, "proj/tasks.py": TASKS,
                                  "proj/views.py": VIEWS.replace("ping.delay()", "ping.delay().get()")})
    before = sources(root)
    result = check(root, "--fix", "--strategy", "global")
    assert sources(root) == before
    assert f"{PREFIX}: nothing to change: no task stores a result nobody reads: the global flag would gain nothing" \
        in result.stderr.splitlines()
    assert result.returncode == 0


def test_after_the_flip_cel002_guards_new_reads(tmp_path):
    root = copy("django", tmp_path)
    check(root, "--fix", "--strategy", "global")
    views = root / "orders" / "views.py"
    new_view = "\n\ndef receipt_now(order_id):\n    return send_receipt.delay(order_id).get(timeout=5)\n"
    views.write_text(views.read_text() + new_view)
    result = check(root)
    assert result.stdout.splitlines()[0] == (
        "orders/tasks.py:4:1: CEL002 task 'orders.tasks.send_receipt' ignores its result (set by the app config at "
        "proj/settings.py:13) but it is read at orders/views.py:25 (.get): .get() would return None or hang")
    assert result.returncode == 1
    # ...and the global strategy fixes it the global way: the task keeps storing.
    check(root, "--fix", "--strategy", "global")
    assert b"@shared_task(ignore_result=False)\ndef send_receipt" in (root / "orders" / "tasks.py").read_bytes()
    assert check(root).returncode == 0


def test_a_file_changed_after_the_analysis_stops_the_whole_plan(tmp_path):
    from celery_lint import config, engine
    from celery_lint.fixing import global_strategy

    root = copy("conf_update", tmp_path)
    report = engine.analyse_root(root, config.Config(), use_cache=False)
    plan = global_strategy.plan(report)
    jobs = root / "worker" / "jobs.py"
    jobs.write_bytes(jobs.read_bytes() + b"\n# edited meanwhile\n")
    before = sources(root)
    results = global_strategy.apply(report, plan, write=True)
    assert sources(root) == before  # the setting is never written without the tasks that must keep storing
    assert {r.path: (r.error, r.held) for r in results} == {
        "worker/jobs.py": ("changed since it was analysed; not fixed (run celery-lint again)", False),
        "worker/app.py": (None, True),  # could be made, held back: the plan is all or nothing
    }


def shop_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(SHOP, tmp_path / "shop", ignore=shutil.ignore_patterns("__pycache__", ".celery_lint_cache")))


def test_examples_shop_exact_edits(tmp_path):
    root = shop_copy(tmp_path)
    before = sources(root)
    result = check(root, "--fix", "--strategy", "global")
    assert result.returncode == 0, result.stdout + result.stderr
    after = sources(root)
    expected = dict(before)
    expected["shop/celery_app.py"] = before["shop/celery_app.py"].replace(
        b"    result_backend=REDIS_URL,\n", b"    result_backend=REDIS_URL,\n    task_ignore_result=True,\n")
    expected["shop/exports.py"] = before["shop/exports.py"].replace(
        b"@app.task\ndef export_orders_csv", b"@app.task(ignore_result=False)\ndef export_orders_csv")
    orders = before["shop/orders.py"]
    for name in (b"compute_tax", b"price_item", b"summarise", b"stock_level"):
        orders = orders.replace(b"@app.task\ndef " + name, b"@app.task(ignore_result=False)\ndef " + name)
    expected["shop/orders.py"] = orders
    assert after == expected
    assert {p for p in after if after[p] != before[p]} == {"shop/celery_app.py", "shop/exports.py", "shop/orders.py"}
    assert check(root).stdout == "All checks passed!\n"


# ----- the placement of the flag, form by form -----

@pytest.mark.parametrize("source, line, namespace, expected", [  # line: where the analysis sees the backend
    ('app.conf.update({"result_backend": "redis://", "x": 1})\n', 1, None,
     'app.conf.update({"result_backend": "redis://", "task_ignore_result": True, "x": 1})\n'),
    ("CONF = {\n    'result_backend': 'redis://'\n}\n", 2, None,
     "CONF = {\n    'result_backend': 'redis://',\n    'task_ignore_result': True\n}\n"),
    ('app.conf.update({\n    "b": 1,\n    "result_backend": URL,\n})\n', 3, None,
     'app.conf.update({\n    "b": 1,\n    "result_backend": URL,\n    "task_ignore_result": True,\n})\n'),
    ("app.conf.update(\n    result_backend=URL,  # the cache\n    x=1,\n)\n", 1, None,
     "app.conf.update(\n    result_backend=URL,  # the cache\n    task_ignore_result=True,\n    x=1,\n)\n"),
    ("app.conf.update(\n    x=1,\n    result_backend=URL\n)\n", 1, None,
     "app.conf.update(\n    x=1,\n    result_backend=URL,\n    task_ignore_result=True\n)\n"),
    ("app.conf.result_backend = URL\nx = 1\n", 1, None,
     "app.conf.result_backend = URL\napp.conf.task_ignore_result = True\nx = 1\n"),
    ("class Config:\n    result_backend = (\n        URL\n    )\n", 2, None,
     "class Config:\n    result_backend = (\n        URL\n    )\n    task_ignore_result = True\n"),
    ("if PROD:\n    CELERY_RESULT_BACKEND = URL", 2, "CELERY",
     "if PROD:\n    CELERY_RESULT_BACKEND = URL\n    CELERY_TASK_IGNORE_RESULT = True\n"),
    ("CELERY_RESULT_BACKEND = URL\r\n", 1, None, "CELERY_RESULT_BACKEND = URL\r\nCELERY_IGNORE_RESULT = True\r\n"),
])
def test_place_the_flag_beside_the_backend(source, line, namespace, expected):
    from celery_lint.fixing.global_setting import place

    assert place(source.encode(), "x.py", line, namespace).apply(source) == expected


def test_uppercase_settings_need_a_known_namespace():
    from celery_lint.fixing.global_setting import NOT_KNOWN, Unplaceable, place

    with pytest.raises(Unplaceable, match="namespace the project does not show"):
        place(b"CELERY_RESULT_BACKEND = URL\n", "x.py", 1, NOT_KNOWN)


@pytest.mark.slow  # a real worker runs the shop's workload
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_shop_keeps_every_workflow_value_with_the_global_flag(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import redis_helpers as harness
    from test_redis_e2e import ITERATIONS, READ_RUNS, RUNS

    project = harness.copy_shop(tmp_path)
    with harness.RedisServer(tmp_path / "redis") as server:
        before = harness.measure_shop(project, server, ITERATIONS, tmp_path)
        lint = check(project, "--fix", "--strategy", "global")
        after = harness.measure_shop(project, server, ITERATIONS, tmp_path)
    assert before.result_keys == RUNS
    assert after.values == before.values, lint.stdout + lint.stderr
    assert after.result_keys == READ_RUNS, lint.stdout + lint.stderr


def test_a_base_class_never_used_as_a_task_does_not_block_the_plan(tmp_path):
    """``class AuditedTask(Task)`` that no task uses yet: it never runs, so it never stores."""
    base = """
        from celery import Task


        class AuditedTask(Task):
            def on_failure(self, exc, task_id, args, kwargs, einfo):
                print("failed", task_id)
    """
    root = write(tmp_path / "p", {"proj/__init__.py": "", "proj/app.py": APP, "proj/tasks.py": TASKS,
                                  "proj/base.py": base, "proj/views.py": VIEWS})
    result = check(root, "--fix", "--strategy", "global")
    assert result.returncode == 0, result.stderr
    assert b"app.conf.task_ignore_result = True" in (root / "proj" / "app.py").read_bytes()
    assert "AuditedTask" not in result.stderr


def test_the_reach_warning_lists_packages_that_may_define_tasks_and_the_rest_under_verbose(tmp_path):
    settings = """
        INSTALLED_APPS = ["click", "vendor_reports"]
        CELERY_RESULT_BACKEND = "redis://"
    """
    app = APP.replace('backend="redis://"', "") + 'app.config_from_object("proj.settings", namespace="CELERY")\n'
    root = write(tmp_path / "p", {"proj/__init__.py": "", "proj/app.py": app, "proj/settings.py": settings,
                                  "proj/tasks.py": TASKS, "proj/views.py": VIEWS})
    warning = f"{PREFIX}: warning: the global flag also reaches tasks the analysis cannot see; they stop storing " \
              "results unless they set ignore_result=False:"
    lines = check(root, "--strategy", "global").stderr.splitlines()
    start = lines.index(warning)
    assert lines[start + 1:start + 3] == [
        "  vendor_reports  (INSTALLED_APPS at proj/settings.py:2)",  # not installed here: it may define tasks
        "  ...and 1 installed package where no file mentions Celery (--verbose lists them)",
    ]
    lines = check(root, "--strategy", "global", "--verbose").stderr.splitlines()
    start = lines.index(warning)
    assert lines[start + 1:start + 3] == [
        "  vendor_reports  (INSTALLED_APPS at proj/settings.py:2)",
        "  click  (INSTALLED_APPS at proj/settings.py:2; installed, no file mentions Celery)",
    ]


def test_a_package_can_define_tasks_when_a_file_mentions_celery(tmp_path):
    from celery_lint.fixing.task_packages import can_define_tasks

    write(tmp_path, {"plain/__init__.py": "", "plain/util.py": "x = 1\n", "worker/__init__.py": "",
                     "worker/jobs.py": "from celery import shared_task\n", "single.py": "y = 2\n"})
    search = [str(tmp_path)]
    assert not can_define_tasks("plain.apps.PlainConfig", "INSTALLED_APPS", search)
    assert not can_define_tasks("single", "INSTALLED_APPS", search)
    assert can_define_tasks("worker", "autodiscover_tasks()", search)
    assert can_define_tasks("missing", "INSTALLED_APPS", search)  # not installed: it may
    assert can_define_tasks("plain.tasks", "Celery(include=...)", search)  # a task module by name


def test_a_generic_app_gets_the_flag_after_it(tmp_path):
    """weblate: ``app = Celery[DjangoTask[..., Any]]("weblate")`` is the app (refused before as "no Celery app")."""
    app = 'from celery import Celery, Task\n\napp = Celery[Task]("proj", backend="redis://")\n'
    root = write(tmp_path / "p", {"proj/__init__.py": "", "proj/app.py": app, "proj/tasks.py": TASKS,
                                  "proj/views.py": VIEWS})
    result = check(root, "--fix", "--strategy", "global")
    assert (root / "proj/app.py").read_text() == app + "app.conf.task_ignore_result = True\n"
    assert f"{PREFIX}: wrote app.conf.task_ignore_result = True beside Celery(backend=...) at proj/app.py:3" \
        in result.stderr.splitlines()


@pytest.mark.parametrize("source, matters", [
    ('"""Runs on the Celery worker."""\nsettings.update(extra)\n', False),
    ("from celery import Celery\n\nclass CeleryTask:\n    pass\n", False),
    ("app.conf.update(load_overrides())\n", True),
    ('app = Celery[Task]("proj")\n', True),
    ("INSTALLED_APPS += ['extra']\n", True),
    ("app.autodiscover_tasks(['pkg'])\n", True),
    ("def broken(:\n    Celery()\n", True),  # not Python's: LibCST decides
])
def test_only_files_with_a_call_the_scan_reads_are_parsed_with_libcst(source, matters):
    from celery_lint.fixing import config_scan

    assert config_scan._may_matter(source.encode()) is matters
