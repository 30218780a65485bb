"""Settings count only where an app loads them: ``config_from_object("proj.celeryconfig")``, a config class
(and its bases), Django's settings module. A docker-only celeryconfig, a docs example or a config class no app
loads never decides the backend; its ``task_ignore_result = True`` still keeps tasks silent ("maybe").
Each a small project, both analysis paths."""
from __future__ import annotations

from conftest import analyse_both_ways, lint
from test_config_patterns import DJANGO_APP, FINDING, TASKS, VIEWS

from celery_lint import config as config_module, engine
from celery_lint.report import audit, render

from celery_lint.types import DYNAMIC

WORKER = """
    from celery import Celery

    app = Celery("proj")
    app.config_from_object("proj.celeryconfig")
"""


def test_a_config_module_no_app_loads_does_not_set_the_backend(project):
    root = project({
        "proj/worker.py": WORKER,
        "proj/celeryconfig.py": "broker_url = 'redis://'\n",
        "proj/docker_celeryconfig.py": "broker_url = 'redis://redis'\nresult_backend = 'redis://redis/1'\n",
        "proj/docs_example.py": "CELERY_RESULT_BACKEND = 'rpc://'\nresult_expires = 60\n",
        "proj/tasks.py": TASKS, "proj/views.py": VIEWS,
    })
    report = analyse_both_ways(root)
    assert report.findings == []
    assert str(report.settings.backend) == "absent" and report.settings.backend_at == []
    assert report.settings.no_backend_at == "proj/worker.py:4" and report.settings.expires is None


def test_the_loaded_config_module_sets_the_backend_and_an_unloaded_false_is_not_read(project):
    root = project({
        "proj/worker.py": WORKER,
        "proj/celeryconfig.py": "result_backend = 'redis://'\ntask_ignore_result = True\n",
        "proj/local_celeryconfig.py": "task_ignore_result = False\n",
        "proj/tasks.py": TASKS, "proj/views.py": VIEWS,
    })
    report = analyse_both_ways(root)
    assert report.findings == []
    assert report.settings.global_ignore is True and report.settings.global_ignore_at == "proj/celeryconfig.py:2"
    assert report.settings.backend_at == ["proj/celeryconfig.py:1"]


def test_an_unloaded_global_ignore_makes_it_maybe_and_keeps_tasks_silent(project):
    """The deployment may load the other module after all (``CELERY_CONFIG_MODULE``, a start script): taking
    False there would report tasks the project ignores globally."""
    root = project({
        "proj/worker.py": WORKER,
        "proj/celeryconfig.py": "result_backend = 'redis://'\n",
        "proj/prod_celeryconfig.py": "task_ignore_result = True\n",
        "proj/tasks.py": TASKS, "proj/views.py": VIEWS,
    })
    report = analyse_both_ways(root)
    assert report.findings == []
    assert report.settings.global_ignore is DYNAMIC
    assert report.settings.global_ignore_at == "proj/prod_celeryconfig.py:1"


def test_a_loaded_config_module_reported_when_relative_to_its_package(project):
    """``config_from_object("celeryconfig")`` for ``proj/celeryconfig.py`` (a worker run from inside proj)."""
    root = project({
        "proj/worker.py": WORKER.replace("proj.celeryconfig", "celeryconfig"),
        "proj/celeryconfig.py": "result_backend = 'redis://'\n",
        "proj/tasks.py": TASKS, "proj/views.py": VIEWS,
    })
    assert lint(root) == [FINDING]


CONFIG = """
    from proj.base_config import BaseConfig


    class ProdConfig(BaseConfig):
        broker_url = "redis://"
"""
BASE_CONFIG = """
    class BaseConfig:
        result_backend = "redis://"
"""
DOCS_CONFIG = """
    class DocsConfig:
        result_backend = "rpc://"
        result_expires = 60
"""


def test_a_config_class_loaded_makes_every_config_class_count_and_no_module(project):
    """The fast path cuts ``ProdConfig`` (nothing of interest in it), and with it what it inherits from: both
    paths count every config class, never a module no app loads."""
    root = project({
        "proj/config.py": CONFIG, "proj/base_config.py": BASE_CONFIG, "proj/docs_config.py": DOCS_CONFIG,
        "proj/celeryconfig.py": "result_backend = 'amqp://'\nresult_extended = True\n",
        "proj/worker.py": """
            from celery import Celery

            from proj.config import ProdConfig

            app = Celery("proj")
            app.config_from_object(ProdConfig)
        """,
        "proj/tasks.py": TASKS, "proj/views.py": VIEWS,
    })
    for speed in (True, False):
        report = engine.analyse_root(root, config_module.load(root), use_cache=False, speed=speed)
        assert [f.format() for f in report.findings] == [FINDING]
        assert report.settings.backend_at == ["proj/base_config.py:3", "proj/docs_config.py:3"]
        assert report.settings.expires == (60, "proj/docs_config.py:4") and report.settings.extended is None


def test_a_config_class_no_app_loads_leaves_the_backend_absent(project):
    root = project({
        "proj/config.py": CONFIG, "proj/base_config.py": BASE_CONFIG, "proj/docs_config.py": DOCS_CONFIG,
        "proj/worker.py": """
            from celery import Celery

            app = Celery("proj")
            app.conf.update(broker_url="redis://")
        """,
        "proj/tasks.py": TASKS, "proj/views.py": VIEWS,
    })
    report = analyse_both_ways(root)
    assert report.findings == [] and str(report.settings.backend) == "absent"


def test_a_mapping_the_app_reads_is_read_and_the_module_around_it_is_not(project):
    root = project({
        "proj/celeryconfig.py": "result_backend = 'rpc://'\nCELERY = {'result_backend': 'redis://'}\n",
        "proj/worker.py": """
            from celery import Celery

            from proj.celeryconfig import CELERY

            app = Celery("proj")
            app.conf.update(CELERY)
        """,
        "proj/tasks.py": TASKS, "proj/views.py": VIEWS,
    })
    report = analyse_both_ways(root)
    assert [f.format() for f in report.findings] == [FINDING]
    assert report.settings.backend_at == ["proj/celeryconfig.py:2"]


def test_a_config_the_app_reads_from_an_object_of_unknown_shape_keeps_every_module(project):
    """Flask: ``celery.conf.update(app.config)``, the Flask config filled from a class: any may be read."""
    root = project({
        "proj/config.py": "class Config:\n    CELERY_RESULT_BACKEND = 'redis://'\n",
        "proj/app.py": """
            from celery import Celery
            from flask import Flask

            app = Flask("proj")
            app.config.from_object("proj.config.Config")
            celery = Celery("proj")
            celery.conf.update(app.config)
        """,
        "proj/tasks.py": TASKS, "proj/views.py": VIEWS,
    })
    report = analyse_both_ways(root)
    assert [f.format() for f in report.findings] == [FINDING]
    assert report.settings.backend_at == ["proj/config.py:2"]


def test_without_an_app_every_config_module_counts(project):
    """A library of ``shared_task``s: the application decides; its example config is all there is to read."""
    root = project({
        "proj/celeryconfig.py": "result_backend = 'redis://'\n",
        "proj/tasks.py": TASKS, "proj/views.py": VIEWS,
    })
    assert lint(root) == [FINDING]


def test_a_module_the_environment_may_name_keeps_every_module(project):
    root = project({
        "proj/worker.py": """
            from celery import Celery

            app = Celery("proj")
            app.config_from_envvar("CELERY_CONFIG_MODULE")
        """,
        "proj/docker_celeryconfig.py": "result_backend = 'redis://redis/1'\n",
        "proj/tasks.py": TASKS, "proj/views.py": VIEWS,
    })
    report = analyse_both_ways(root)
    assert [f.format() for f in report.findings] == [FINDING]
    assert report.settings.backend_at == ["proj/docker_celeryconfig.py:1"]


def test_django_settings_count_and_a_non_settings_module_no_app_loads_does_not(project):
    root = project({
        "proj/celery.py": DJANGO_APP,
        "proj/settings.py": "CELERY_BROKER_URL = 'redis://'\n",
        "proj/celeryconfig.py": "result_backend = 'redis://'\n",
        "proj/tasks.py": TASKS, "proj/views.py": VIEWS,
    })
    report = analyse_both_ways(root)
    assert report.findings == [] and str(report.settings.backend) == "absent"


def test_an_annotated_setting_is_a_setting_and_the_report_counts_every_place(project):
    """weblate: ``CELERY_RESULT_BACKEND: str | None = CELERY_BROKER_URL`` in settings_example.py, the template
    of the deployment's settings, and a plain one in settings_docker.py."""
    root = project({
        "proj/celery.py": DJANGO_APP,
        "proj/settings_example.py": "CELERY_BROKER_URL = 'redis://'\nCELERY_RESULT_BACKEND: str | None = CELERY_BROKER_URL\n",
        "proj/settings_docker.py": "CELERY_RESULT_BACKEND = 'redis://redis/1'\n",
        "proj/tasks.py": TASKS, "proj/views.py": VIEWS,
    })
    report = analyse_both_ways(root)
    assert [f.format() for f in report.findings] == [FINDING]
    assert report.settings.backend_at == ["proj/settings_docker.py:1", "proj/settings_example.py:2"]
    rows = render.config_rows(audit.configuration(report.settings))
    assert rows[0] == ("result backend", "configured", "proj/settings_docker.py:1 +1")


def test_a_schema_entry_named_like_a_setting_is_not_the_setting(project):
    """airflow's provider info: ``"result_backend": {"description": ..., "default": ...}`` documents the
    setting; no backend or global ignore is a mapping."""
    root = project({
        "proj/provider_info.py": """
            def get_provider_info():
                return {
                    "result_backend": {"type": "string", "default": None},
                    "task_ignore_result": {"type": "boolean", "default": "True"},
                }
        """,
        "proj/worker.py": """
            from celery import Celery

            app = Celery("proj", backend="redis://")
        """,
        "proj/tasks.py": TASKS, "proj/views.py": VIEWS,
    })
    report = analyse_both_ways(root)
    assert [f.format() for f in report.findings] == [FINDING]
    assert report.settings.backend_at == ["proj/worker.py:4"] and report.settings.global_ignore is False
