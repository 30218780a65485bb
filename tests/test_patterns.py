"""Patterns found by reviewing the corpus (tests/corpus/), each reduced to a 2–3 module project.

Every test names the real project that showed the pattern. A test guarding against a false positive asserts
silence where the analysis used to report CEL001 (or CEL002); a test for a miss asserts the finding it now gives.
"""
from __future__ import annotations

import textwrap

from conftest import analyse_both_ways

APP = """
from celery import Celery
app = Celery("proj", backend="redis://")
"""


def with_app(body: str) -> str:
    """A tasks module: the app (lines 2-3), then ``body`` (its first, usually blank, line is line 4)."""
    return APP + textwrap.dedent(body)


def lint(root):
    """Findings as printed, after checking that every file of the mini-project parsed and that the plain path
    answers the same."""
    report = analyse_both_ways(root)
    assert report.errors == []
    return [f.format() for f in report.findings]


def cel001(path: str, line: int, name: str, places: int = 1) -> str:
    where = "1 place" if places == 1 else f"{places} places"
    return (f"{path}:{line}:1: CEL001 result of task '{name}' is stored but never read "
            f"(enqueued at {where}); add ignore_result=True")


# ----- task detection ------------------------------------------------------------------------------------------

def test_subscripted_generic_app_makes_tasks(project):
    """weblate: ``app = Celery[DjangoTask[..., Any]]("weblate")`` hid all 108 tasks."""
    root = project({
        "proj/celery.py": """
            from typing import Any
            from celery import Celery
            from celery.contrib.django.task import DjangoTask
            app = Celery[DjangoTask[..., Any]]("proj", backend="redis://")
        """,
        "proj/tasks.py": """
            from proj.celery import app

            @app.task(trail=False)
            def cleanup():
                pass
        """,
        "proj/views.py": """
            from proj.tasks import cleanup

            def view():
                cleanup.delay()
        """,
    })
    assert lint(root) == [cel001("proj/tasks.py", 4, "proj.tasks.cleanup")]


def test_an_app_in_test_settings_does_not_mean_no_backend(project):
    """edx-enterprise: its only ``Celery()`` lives in ``enterprise/settings/test.py`` (eager, no backend). The
    application that installs the library configures the real backend, so that test app must not silence CEL001."""
    files = {
        "lib/settings/test.py": """
            from celery import Celery
            app = Celery("lib")
            app.config_from_object("django.conf:settings")
            CELERY_ALWAYS_EAGER = True
        """,
        "lib/tasks.py": """
            from celery import shared_task

            @shared_task
            def notify(x):
                pass
        """,
        "lib/signals.py": """
            from lib.tasks import notify

            def handler(x):
                notify.delay(x)
        """,
    }
    assert lint(project(files)) == [cel001("lib/tasks.py", 4, "lib.tasks.notify")]


def test_a_production_app_without_backend_still_means_no_backend(project):
    """misago: ``devproject/celery.py`` creates the app and no setting names a backend: nothing is stored."""
    root = project({
        "devproject/celery.py": """
            from celery import Celery
            app = Celery("devproject")
            app.config_from_object("django.conf:settings", namespace="CELERY")
        """,
        "misc/tasks.py": """
            from celery import shared_task

            @shared_task
            def build():
                pass
        """,
        "misc/views.py": """
            from misc.tasks import build

            def view():
                build.delay()
        """,
    })
    assert lint(root) == []


# ----- getattr and dynamic names -------------------------------------------------------------------------------

def test_getattr_on_a_logger_hands_no_task_on(project):
    """weblate: ``getattr(LOGGER, level)`` counted as "any task handed on as a value", which together with any
    unknown enqueue made every task of the project silent."""
    root = project({
        "proj/tasks.py": with_app("""
            @app.task
            def ping():
                pass
        """),
        "proj/util.py": """
            import logging
            LOGGER = logging.getLogger(__name__)

            def report(level, message):
                log = getattr(LOGGER, level)
                log(message)

            def send(task):
                return task.delay()
        """,
        "proj/views.py": """
            from proj.tasks import ping

            def view():
                ping.delay()
        """,
    })
    assert lint(root) == [cel001("proj/tasks.py", 5, "proj.tasks.ping")]


def test_getattr_on_a_package_reaches_the_tasks_it_reexports(project):
    """Looking a task up by a run-time name on a package (``getattr(proj.jobs, name)``) may return any task the
    package imports, not only the ones it defines: a read there keeps every one of them silent."""
    root = project({
        "proj/jobs/__init__.py": "from proj.jobs.impl import ping\n",
        "proj/jobs/impl.py": with_app("""
            @app.task
            def ping():
                pass
        """),
        "proj/views.py": """
            import proj.jobs
            from proj.jobs.impl import ping

            def run(name):
                return getattr(proj.jobs, name).delay().get()

            def fire():
                ping.delay()
        """,
    })
    assert lint(root) == []


def test_a_read_through_getattr_is_no_proof_for_cel002(project):
    """``getattr(tasks, name).delay().get()`` may read any task of the module: not a reason to tell a task that
    ignores its result that it is read (CEL002); only a reason to keep CEL001 silent."""
    root = project({
        "proj/tasks.py": with_app("""
            @app.task(ignore_result=True)
            def ping():
                pass

            @app.task
            def pong():
                pass
        """),
        "proj/views.py": """
            from proj import tasks

            def run(name):
                return getattr(tasks, name).delay().get()
        """,
    })
    assert lint(root) == []


def test_conditional_task_choice_is_handed_on(project):
    """``task = a if x else b`` then ``task.delay().get()``: both may be read. The choice was not recorded as a
    value hand-off, so ``a`` and ``b`` got CEL001 from their plain ``.delay()`` elsewhere."""
    root = project({
        "proj/tasks.py": with_app("""
            @app.task
            def fast():
                return 1

            @app.task
            def slow():
                return 2
        """),
        "proj/views.py": """
            from proj.tasks import fast, slow

            def run(quick):
                task = fast if quick else slow
                return task.delay().get()

            def fire():
                fast.delay()
                slow.delay()
        """,
    })
    assert lint(root) == []


def test_task_from_the_registry_in_a_variable(project):
    """apache-airflow-providers-celery: ``celery_task = app.tasks["execute_workload"]`` and later
    ``result = celery_task.apply_async(...)``, whose state the executor reads."""
    root = project({
        "proj/tasks.py": with_app("""
            @app.task(name="execute_workload")
            def execute_workload(x):
                return x
        """),
        "proj/executor.py": """
            from proj.tasks import app, execute_workload

            def send(args):
                celery_task = app.tasks["execute_workload"]
                result = celery_task.apply_async(args=args)
                return result

            def warm_up():
                execute_workload.delay(0)
        """,
    })
    assert lint(root) == []


def test_send_task_with_a_run_time_name_may_read_any_task(project):
    """nautobot's scheduler: ``self.send_task(entry.task, ...)`` returns its result. A name known only at run time
    may be any task's, whether or not that task is ever handed on as a value."""
    root = project({
        "proj/tasks.py": with_app("""
            @app.task
            def report():
                return 1
        """),
        "proj/views.py": """
            from proj.tasks import app, report

            def run(name):
                return app.send_task(name).get()

            def fire():
                report.delay()
        """,
    })
    assert lint(root) == []


def test_inspect_signature_is_not_a_celery_signature(project):
    """invenio-records-resources, nautobot, mayan: ``inspect.signature(f).parameters`` was taken for a Celery
    signature by an unknown task whose result escapes, which silenced every task handed on as a value."""
    root = project({
        "proj/tasks.py": with_app("""
            @app.task
            def extract(x):
                pass
        """),
        "proj/components.py": """
            import inspect
            from proj.tasks import extract

            HANDLERS = {"extract": extract}

            def params(func):
                return inspect.signature(func).parameters

            def on_commit():
                HANDLERS["extract"].delay(1)
                extract.delay(2)
        """,
    })
    # (the table of this module is read: ``HANDLERS["extract"]`` is ``extract``, enqueued there too)
    assert lint(root) == [cel001("proj/tasks.py", 5, "proj.tasks.extract", places=2)]


# ----- modules we never parse ----------------------------------------------------------------------------------

def test_import_through_a_star_reexporting_package(project):
    """mayan-edms: ``documents/tasks/__init__.py`` is five ``from .x import *`` lines and names no task, so it is
    never summarised; ``from ..tasks import task_document_file_upload`` then pointed nowhere. A read through
    that path must keep the task silent (it used to be an unknown use, and the plain ``.delay()`` elsewhere
    gave CEL001), and discards through it count as the task's own."""
    files = {
        "proj/jobs/__init__.py": "from .mail import *\nfrom .files import *\n",
        "proj/jobs/mail.py": with_app("""
            @app.task
            def send_mail():
                pass
        """),
        "proj/jobs/files.py": with_app("""
            @app.task
            def upload():
                pass
        """),
        "proj/views.py": """
            from proj.jobs import upload, send_mail

            def view():
                return upload.delay().get()

            def other():
                send_mail.delay()
        """,
        "proj/api.py": """
            from proj.jobs.files import upload

            def api():
                upload.delay()
        """,
    }
    assert lint(project(files)) == [cel001("proj/jobs/mail.py", 5, "proj.jobs.mail.send_mail")]


# ----- results that are read where we cannot see ---------------------------------------------------------------

def test_project_result_backend_keeps_every_task_silent(project):
    """nautobot: ``CELERY_RESULT_BACKEND = "nautobot.core.celery.backends.NautobotDatabaseBackend"`` stores every
    result as a ``JobResult`` row that the UI and API read through the ORM, by the id the caller chose."""
    root = project({
        "proj/settings.py": 'CELERY_RESULT_BACKEND = "proj.backends.JobResultBackend"\n',
        "proj/backends.py": """
            from django_celery_results.backends import DatabaseBackend

            class JobResultBackend(DatabaseBackend):
                pass
        """,
        "proj/tasks.py": with_app("""
            @app.task
            def webhook(x):
                pass
        """),
        "proj/views.py": """
            from proj.tasks import webhook

            def view():
                webhook.apply_async(args=[1])
        """,
    })
    assert lint(root) == []


def test_task_id_chosen_by_the_caller_is_an_id_taken(project):
    """nautobot: ``run_job.apply_async(..., task_id=str(job_result.id))`` discards the AsyncResult but the caller
    knows the id already; with a read by id in the project, that task may be polled."""
    files = {
        "proj/tasks.py": with_app("""
            @app.task
            def run_job(x):
                return x

            @app.task
            def cleanup():
                pass
        """),
        "proj/views.py": """
            from celery.result import AsyncResult
            from proj.tasks import cleanup, run_job

            def start(job):
                run_job.apply_async(args=[1], task_id=str(job.pk))
                cleanup.delay()

            def status(request):
                return AsyncResult(request.GET["id"]).state
        """,
    }
    assert lint(project(files)) == [cel001("proj/tasks.py", 9, "proj.tasks.cleanup")]


def test_task_id_chosen_without_reads_by_id_is_still_unread(project):
    root = project({
        "proj/tasks.py": with_app("""
            @app.task
            def run_job(x):
                return x
        """),
        "proj/views.py": """
            from proj.tasks import run_job

            def start(job):
                run_job.apply_async(args=[1], task_id=str(job.pk))
        """,
    })
    assert lint(root) == [cel001("proj/tasks.py", 5, "proj.tasks.run_job")]


def test_progress_reported_by_a_helper_keeps_every_task_silent(project):
    """weblate: ``Component.progress_step()`` calls ``current_task.update_state(...)`` for whichever task runs it,
    and ``store_background_task()`` caches ``current_task.request.id`` for the status view. We cannot tell which
    tasks reach those helpers (a method of a Django model: the framework may call it too), so none may lose its
    results. (A method of a plain class belongs to the tasks calling it: test_progress_callers.py.)"""
    root = project({
        "proj/models.py": """
            from celery import current_task
            from django.db import models

            class Component(models.Model):
                def progress_step(self, n):
                    if current_task and current_task.request.id:
                        current_task.update_state(state="PROGRESS", meta={"progress": n})
        """,
        "proj/tasks.py": with_app("""
            @app.task
            def update(pk):
                pass
        """),
        "proj/views.py": """
            from proj.tasks import update

            def view():
                update.delay(1)
        """,
    })
    assert lint(root) == []


def test_running_task_id_published_by_a_helper_with_reads_by_id(project):
    """weblate: ``task = current_task.request; cache.set(self.update_key, task.id)`` and an API view reading
    ``AsyncResult(pk)``: any task that runs the helper (a method of a Django model) may be polled by id."""
    files = {
        "proj/models.py": """
            from celery import current_task
            from celery.result import AsyncResult
            from django.core.cache import cache
            from django.db import models

            class Component(models.Model):
                def store_background_task(self):
                    task = current_task.request
                    cache.set("key", task.id)

            def status(pk):
                return AsyncResult(pk).state
        """,
        "proj/tasks.py": with_app("""
            @app.task
            def update(pk):
                pass
        """),
        "proj/views.py": """
            from proj.tasks import update

            def view():
                update.delay(1)
        """,
    }
    assert lint(project(files)) == []
    # without anything that reads results by id, the published id is harmless
    files["proj/models.py"] = files["proj/models.py"].replace("return AsyncResult(pk).state", "return pk")
    assert lint(project(files)) == [cel001("proj/tasks.py", 5, "proj.tasks.update")]


def test_a_task_publishing_its_own_id_with_reads_by_id(project):
    """nautobot: ``JobConsoleLogExecutor(job_result_pk=self.request.id, ...)`` inside a bound task: that task's
    id is handed on, and the project reads results by id. Logging the id only is not the same as publishing it
    when nothing reads by id; ``self.request.retries`` is not an id at all."""
    root = project({
        "proj/tasks.py": with_app("""
            from proj.executor import Executor

            @app.task(bind=True)
            def run_console(self, x):
                return Executor(job_result_pk=self.request.id).execute()

            @app.task(bind=True)
            def quiet(self):
                if self.request.retries > 2:
                    return None
        """),
        "proj/executor.py": """
            from celery.result import AsyncResult

            class Executor:
                def __init__(self, job_result_pk):
                    self.pk = job_result_pk

                def status(self):
                    return AsyncResult(self.pk).state
        """,
        "proj/views.py": """
            from proj.tasks import quiet, run_console

            def view():
                run_console.delay(1)
                quiet.delay()
        """,
    })
    assert lint(root) == [cel001("proj/tasks.py", 11, "proj.tasks.quiet")]


def test_task_returned_from_a_lambda_or_generator_is_handed_on(project):
    """A task object returned by ``lambda: task`` or yielded by a generator reaches a caller we cannot follow."""
    root = project({
        "proj/tasks.py": with_app("""
            @app.task
            def a():
                return 1

            @app.task
            def b():
                return 2
        """),
        "proj/views.py": """
            from proj.tasks import a, b

            FACTORY = lambda: a

            def tasks():
                yield b

            def run(make):
                return make().delay().get()

            def fire():
                a.delay()
                b.delay()
        """,
    })
    assert lint(root) == []


def test_star_imports_going_round_in_circles_terminate(project):
    """misago: packages whose modules ``from .x import *`` each other. Trying every star import (mayan's
    ``documents/tasks/__init__.py`` has five) must not explode combinatorially on such cycles."""
    names = [f"m{i}" for i in range(8)]
    files = {f"proj/{n}.py": "# celery helpers\n" + "".join(f"from .{o} import *\n" for o in names if o != n)
             for n in names}
    files["proj/tasks.py"] = with_app("""
        @app.task
        def ping():
            pass
    """)
    files["proj/views.py"] = """
        from proj.m0 import ping, missing
        from proj.m0 import Task

        class Job(Task):
            pass

        def view():
            ping.delay()
            missing.delay()
    """
    assert lint(project(files)) == []


def test_result_assigned_in_several_branches(project):
    """ora2: ``result = a.apply_async()`` / ``result = b.apply_async()`` in if/elif/else, then only
    ``log.info(..., result.task_id)``. The other branches' assignments are new values, not uses of this one."""
    root = project({
        "proj/tasks.py": with_app("""
            @app.task
            def by_course(course_id):
                pass

            @app.task
            def everything():
                pass
        """),
        "proj/command.py": """
            import logging
            from proj import tasks

            log = logging.getLogger(__name__)

            def handle(course_id=None):
                if course_id:
                    result = tasks.by_course.apply_async([course_id])
                else:
                    result = tasks.everything.apply_async()
                log.info("Created %s", result.task_id)
        """,
    })
    assert lint(root) == [cel001("proj/tasks.py", 5, "proj.tasks.by_course"),
                          cel001("proj/tasks.py", 9, "proj.tasks.everything")]


def test_task_kept_as_a_class_attribute_and_read_generically(project):
    """The corpus README's "tasks kept as class attributes and enqueued generically": ``task = ping`` in a
    class body, ``self.task.delay().get()`` in a base class. The class attribute hands the task on."""
    root = project({
        "proj/tasks.py": with_app("""
            @app.task
            def ping():
                return 1

            @app.task
            def pong():
                return 2
        """),
        "proj/views.py": """
            from proj.tasks import ping, pong

            class Base:
                task = None

                def run(self):
                    return self.task.delay().get()

            class PingView(Base):
                task = ping

            def fire():
                ping.delay()
                pong.delay()
        """,
    })
    assert lint(root) == [cel001("proj/tasks.py", 9, "proj.tasks.pong")]


def test_task_imported_from_a_run_time_path(project):
    """``import_string(path)`` / ``getattr(import_module(m), name)`` (Django's and importlib's loaders, used all
    over the corpus) may return any task: enqueuing what they return, with the result used, keeps every task
    silent, in a local variable, at module level, or inline."""
    tasks = with_app("""
        @app.task
        def ping():
            return 1
    """)
    direct = """
        from proj.tasks import ping

        def fire():
            ping.delay()
    """
    readers = {
        "local": """
            from django.utils.module_loading import import_string

            def run(path):
                task = import_string(path)
                return task.delay().get()
        """,
        "module level": """
            from django.conf import settings
            from django.utils.module_loading import import_string

            HANDLER = import_string(settings.HANDLER)

            def run():
                return HANDLER.delay().get()
        """,
        "getattr": """
            from importlib import import_module

            def run(module, name):
                return getattr(import_module(module), name).apply_async().get()
        """,
    }
    for label, reader in readers.items():
        root = project({"proj/tasks.py": tasks, "proj/direct.py": direct, "proj/reader.py": reader})
        assert lint(root) == [], label


def test_a_class_imported_from_a_setting_is_not_a_task(project):
    """mayan-edms: ``celery_class = import_string(dotted_path=setting.value); app = celery_class(main="mayan")``
    imports the app class; it must not make every task "possibly handed on"."""
    root = project({
        "proj/celery.py": """
            from django.utils.module_loading import import_string
            from proj.settings import APP_CLASS

            celery_class = import_string(dotted_path=APP_CLASS)
            app = celery_class(main="proj", backend="redis://")
        """,
        "proj/tasks.py": with_app("""
            @app.task
            def ping():
                return 1
        """),
        "proj/views.py": """
            from proj.tasks import ping

            def send(task):
                return task.apply_async()

            def fire():
                ping.delay()
        """,
    })
    assert lint(root) == [cel001("proj/tasks.py", 5, "proj.tasks.ping")]


def test_a_test_configuring_mocks_reads_nothing(project):
    """pretix/saleor-style tests: a made-up AsyncResult as a mock's return value, a patch wrapping a bound
    ``apply_async``, an assertion naming a task: none of them reads a result or hands a task on."""
    root = project({
        "proj/tasks.py": with_app("""
            @app.task
            def export(x):
                pass

            @app.task
            def cleanup(x):
                pass
        """),
        "proj/views.py": """
            from proj.tasks import cleanup, export

            def view(x):
                export.delay(x)
                export.apply_async((x,), link_error=cleanup.s())
        """,
        "tests/test_views.py": """
            from unittest import mock
            from celery.result import AsyncResult
            from proj.tasks import cleanup, export
            from proj.views import view

            def test_view():
                with mock.patch("proj.tasks.export.apply_async", wraps=export.apply_async) as m:
                    m.return_value = AsyncResult("made-up")
                    view(1)
                m.assert_called_once_with((1,), link_error=cleanup.s())
                mock.patch.object(export, "delay", side_effect=export.delay)
        """,
    })
    assert lint(root) == [cel001("proj/tasks.py", 5, "proj.tasks.export", places=2),
                          cel001("proj/tasks.py", 9, "proj.tasks.cleanup", places=2)]  # (one in the assertion)


def test_a_real_read_in_a_test_still_counts(project):
    root = project({
        "proj/tasks.py": with_app("""
            @app.task
            def export(x):
                pass
        """),
        "proj/views.py": "from proj.tasks import export\n\n\ndef view(x):\n    export.delay(x)\n",
        "tests/test_export.py": "from proj.tasks import export\n\n\ndef test_export():\n    assert export.delay(1).get(timeout=5)\n",
    })
    assert lint(root) == []


def test_a_getattr_dispatcher_answers_alike_cold_warm_and_after_an_edit(tmp_path):
    """The names a dispatcher receives come from its callers, wherever the rounds of the fast path find them:
    the verdict must not depend on which round (or run) summarised which file."""
    from conftest import write_project
    from celery_lint import config as config_module
    from celery_lint import engine

    root = write_project(tmp_path / "proj", {
        "proj/jobs.py": with_app("""
            @app.task
            def rebuild():
                pass

            @app.task
            def purge():
                pass
        """),
        "proj/runner.py": "from proj import jobs\n\n\ndef run_job(name):\n    return getattr(jobs, name).delay().get(timeout=10)\n",
        "proj/admin.py": "from proj.runner import run_job\n\n\ndef view(request):\n    return run_job('rebuild')\n",
        "proj/views.py": "from proj.jobs import purge\n\n\ndef go():\n    purge.delay()\n",
    })

    def verdicts():
        report = engine.analyse_root(root, config_module.load(root), use_cache=True)
        return {task.short_name: str(verdict.state) for task, verdict in report.verdicts}

    expected = {"rebuild": "read", "purge": "unread"}
    assert verdicts() == expected  # cold
    assert verdicts() == expected  # warm
    (root / "proj" / "admin.py").write_text("from proj.runner import run_job\n\n\ndef view(request):\n    return run_job('rebuild')  # edited\n")
    assert verdicts() == expected
