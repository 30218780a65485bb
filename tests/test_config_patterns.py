"""Where the backend and the global ignore come from: settings read from the environment, config loaded from
elsewhere, locals that only look like settings. Each a 2–3 module project, both analysis paths."""
from __future__ import annotations

from conftest import analyse_both_ways, lint

TASKS = """
    from celery import shared_task

    @shared_task
    def sync(x):
        return x
"""
VIEWS = """
    from proj.tasks import sync

    def view(x):
        sync.delay(x)
"""
FINDING = ("proj/tasks.py:4:1: CEL001 result of task 'proj.tasks.sync' is stored but never read (enqueued at 1 "
           "place); add ignore_result=True")


def test_a_local_named_like_a_setting_is_not_the_setting(project):
    """A function's ``result_backend = ...`` is a local variable: the app still has no backend."""
    root = project({
        "proj/worker.py": """
            from celery import Celery

            app = Celery("proj", broker="redis://")

            def describe():
                result_backend = "redis://"
                result_extended = True
                return result_backend, result_extended
        """,
        "proj/tasks.py": TASKS, "proj/views.py": VIEWS,
    })
    report = analyse_both_ways(root)
    assert report.findings == [] and str(report.settings.backend) == "absent"
    assert report.settings.extended is None


def test_django_environ_schema_default_turns_the_global_ignore_on(project):
    root = project({
        "proj/celery.py": """
            from celery import Celery

            app = Celery("proj")
            app.config_from_object("django.conf:settings", namespace="CELERY")
        """,
        "proj/settings.py": """
            import environ

            env = environ.Env(CELERY_TASK_IGNORE_RESULT=(bool, True))
            CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default="redis://localhost/1")
            CELERY_TASK_IGNORE_RESULT = env("CELERY_TASK_IGNORE_RESULT")
        """,
        "proj/tasks.py": TASKS, "proj/views.py": VIEWS,
    })
    report = analyse_both_ways(root)
    assert report.findings == []
    assert (report.settings.global_ignore, report.settings.global_ignore_env) == (True, "CELERY_TASK_IGNORE_RESULT")


def test_literal_eval_of_an_environment_default(project):
    root = project({
        "proj/celeryconfig.py": """
            import ast
            import os

            result_backend = os.environ.get("RESULT_BACKEND", "redis://")
            task_ignore_result = ast.literal_eval(os.environ.get("TASK_IGNORE_RESULT", "False"))
        """,
        "proj/worker.py": """
            from celery import Celery

            app = Celery("proj")
            app.config_from_object("proj.celeryconfig")
        """,
        "proj/tasks.py": TASKS, "proj/views.py": VIEWS,
    })
    assert lint(root) == [FINDING]


def test_conf_update_of_something_unseen_makes_the_backend_unknown(project):
    root = project({
        "proj/worker.py": """
            from celery import Celery
            from proj.deploy import load_overrides

            app = Celery("proj", broker="redis://")
            app.conf.update(load_overrides())
        """,
        "proj/deploy.py": "def load_overrides():\n    return {}\n",
        "proj/tasks.py": TASKS, "proj/views.py": VIEWS,
    })
    assert lint(root) == [FINDING + " (stored if a result backend is configured: the config is loaded from "
                                    "load_overrides(), which celery-lint cannot read, at proj/worker.py:6)"]


def test_conf_update_of_a_literal_mapping_is_read_where_it_is_written(project):
    root = project({
        "proj/worker.py": """
            from celery import Celery

            app = Celery("proj", broker="redis://")
            app.conf.update({"task_serializer": "json"})
            app.conf.update(dict(result_expires=60))
        """,
        "proj/tasks.py": TASKS, "proj/views.py": VIEWS,
    })
    report = analyse_both_ways(root)
    assert report.findings == [] and str(report.settings.backend) == "absent"


def test_config_module_outside_the_project_makes_the_backend_unknown(project):
    root = project({
        "proj/worker.py": """
            from celery import Celery

            app = Celery("proj")
            app.config_from_object("deployment_celeryconfig")
        """,
        "proj/tasks.py": TASKS, "proj/views.py": VIEWS,
    })
    assert lint(root) == [FINDING + " (stored if a result backend is configured: the config is loaded from "
                                    "deployment_celeryconfig, outside the project, at proj/worker.py:5)"]


def test_config_module_of_the_project_without_a_backend_is_absent(project):
    root = project({
        "proj/celeryconfig.py": "broker_url = 'redis://'\n",
        "proj/worker.py": """
            from celery import Celery

            app = Celery("proj")
            app.config_from_object("proj.celeryconfig")
        """,
        "proj/tasks.py": TASKS, "proj/views.py": VIEWS,
    })
    report = analyse_both_ways(root)
    assert report.findings == [] and str(report.settings.backend) == "absent"


DJANGO_APP = """
    import os

    from celery import Celery

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")

    app = Celery("proj")
    app.config_from_object("django.conf:settings", namespace="CELERY")
"""


def test_the_settings_the_app_loads_by_default_are_cited_not_another_deployment_s(project):
    """weblate: ``settings_docker.py`` sets a backend the default ``weblate.settings`` may not."""
    root = project({
        "proj/celery.py": DJANGO_APP,
        "proj/base_settings.py": "CELERY_RESULT_BACKEND = 'redis://localhost/1'\n",
        "proj/settings.py": "from proj.base_settings import *\n",
        "proj/settings_docker.py": "CELERY_RESULT_BACKEND = 'redis://redis/1'\n",
        "proj/tasks.py": TASKS, "proj/views.py": VIEWS,
    })
    report = analyse_both_ways(root)
    assert report.settings.backend_at == ["proj/base_settings.py:1"]
    assert [f.format() for f in report.findings] == [FINDING]


def test_another_deployment_s_global_ignore_still_keeps_tasks_silent(project):
    """Production may load ``settings_docker.py`` (DJANGO_SETTINGS_MODULE set in its environment): its
    ``CELERY_TASK_IGNORE_RESULT = True`` makes the global ignore differ between deployments, so nothing is said."""
    root = project({
        "proj/celery.py": DJANGO_APP,
        "proj/settings.py": "CELERY_RESULT_BACKEND = 'redis://localhost/1'\n",
        "proj/settings_docker.py": "CELERY_TASK_IGNORE_RESULT = True\n",
        "proj/tasks.py": TASKS, "proj/views.py": VIEWS,
    })
    assert lint(root) == []


def test_default_django_settings_outside_the_project_make_the_backend_unknown(project):
    """weblate: ``weblate.settings`` is written at deployment (from ``settings_example.py``)."""
    root = project({
        "proj/celery.py": DJANGO_APP,
        "proj/settings_example.py": "CELERY_BROKER_URL = 'redis://localhost/0'\n",
        "proj/tasks.py": TASKS, "proj/views.py": VIEWS,
    })
    assert lint(root) == [FINDING + " (stored if a result backend is configured: the Django settings module "
                                    "proj.settings (DJANGO_SETTINGS_MODULE at proj/celery.py:6) is outside the "
                                    "project)"]


def test_a_generic_app_subscripted_once_makes_tasks(project):
    """``Celery[DjangoTask]("weblate")``: the class, whatever it is subscripted with."""
    root = project({
        "proj/celery.py": """
            from celery import Celery
            from celery.contrib.django.task import DjangoTask

            app = Celery[DjangoTask]("proj", backend="redis://")
        """,
        "proj/tasks.py": """
            from proj.celery import app

            @app.task
            def sync(x):
                return x
        """,
        "proj/views.py": VIEWS,
    })
    assert lint(root) == [FINDING]


def test_a_loose_file_named_celery_does_not_shadow_the_library(project):
    """``dockerfiles/settings/celery.py`` (no ``__init__.py`` above it) is not what ``from celery import ...``
    imports from the project root."""
    root = project({
        "dockerfiles/settings/celery.py": "result_backend = 'redis://redis/1'\n",
        "proj/__init__.py": "",
        "proj/worker.py": 'from celery import Celery\n\napp = Celery("proj", backend="redis://")\n',
        "proj/tasks.py": TASKS, "proj/views.py": VIEWS,
    })
    assert lint(root) == [FINDING]


def test_a_bare_task_given_to_add_periodic_task_is_a_beat_entry(project):
    root = project({
        "proj/worker.py": 'from celery import Celery\n\napp = Celery("proj", backend="redis://")\n',
        "proj/tasks.py": TASKS,
        "proj/schedule.py": """
            from celery.schedules import crontab

            from proj.tasks import sync
            from proj.worker import app

            @app.on_after_configure.connect
            def setup(sender, **kwargs):
                sender.add_periodic_task(crontab(minute=0), sync, args=(1,))
        """,
    })
    report = analyse_both_ways(root)
    [(task, verdict)] = report.verdicts
    assert str(verdict.state) == "unread" and [str(use.kind) for _path, use in task.uses] == ["beat"]
