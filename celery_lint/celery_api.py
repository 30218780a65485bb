"""Celery's vocabulary, in one table: every name the analysis recognises, what it means, and how it is spelled
in source code.

The analysis (``analysis/``) asks this table what a name means (``names(Role.ENQUEUE)``). The speed layer
(``speed/``) derives from it, never by hand, what it must not skip: the prefilter's tokens (a file without any
of them is not parsed in the first round) and the slicer's keep-list (a statement naming one is never cut).
``tests/test_vocabulary.py`` checks that every term's example survives both.

A new Celery API is one new row here, the analysis that reads it, and a rule if it needs one.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import Enum
from typing import FrozenSet, Optional, Tuple


class Role(Enum):
    PACKAGE = "the celery package: every name imported from it"
    TASK_DECORATOR = "a decorator that makes a task"
    APP_TASK_DECORATOR = "an app's own task decorator: app.task"
    TASK_DECORATOR_HINT = "a name that looks like a task decorator alias (x_task = shared_task)"
    APP_CLASS = "the Celery application class"
    APP_NAME = "a name projects give an app imported from a package we cannot see"
    TASK_NAMER = "an app's method that names its tasks: registered names are not the default ones"
    APP_EXTENSION = "the Celery app an extension object holds (ext = FlaskCeleryExt(app); ext.celery)"
    TASK_CLASS = "the base class of class-based tasks"
    TASK_CLASS_ATTRIBUTE = "a class attribute of a class-based task the analysis reads"
    ENQUEUE = "sends a task and returns its AsyncResult"
    ENQUEUE_ON_COMMIT = "sends a task once the transaction commits and returns None: nothing can read it"
    SEND_BY_NAME = "sends a task by its registered name"
    SIGNATURE = "builds a signature of a task"
    SIGNATURE_CLASS = "builds a signature from a name"
    SIGNATURE_CHAINABLE = "a signature method that returns a signature of the same task"
    CHAIN = "a chain canvas"
    GROUP = "a group canvas"
    CHORD = "a chord canvas"
    INLINE = "runs the task inside a built-in task (its own ignore_result is moot)"
    EAGER = "runs the task in this process (nothing is stored)"
    LINK_KEYWORD = "a callback keyword of apply_async: the callback's result is never read"
    LINK_METHOD = "adds a callback to a signature"
    PERIODIC = "schedules a task with beat (beat never reads results)"
    PERIODIC_TASK_MODEL = "a database beat entry naming a task"
    TASK_REGISTRY = "looks a task up by name: app.tasks[name]"
    NO_READ = "an AsyncResult method that does not read the backend"
    ID_ATTRIBUTE = "an AsyncResult's id"
    READ_BY_ID = "builds a result handle from an id: whatever id it gets is read"
    BACKEND_READ = "asks the result backend (``app.backend.<name>(id)``) for a stored result: whatever id it gets is read"
    BACKEND_HELD = "the result backend kept in a variable (``be = app.backend``): its reads are the backend's"
    RESULT_MODEL = "django-celery-results' model of stored results: a query of it reads them"
    RESTORE = "GroupResult.restore(id): a result read by id"
    PROGRESS = "stores progress that someone polls"
    CURRENT_TASK = "the task running now"
    REQUEST = "a running task's request"
    REQUEST_ID = "an id on a running task's request"
    RUN_TIME_IMPORT = "imports a module or object from a path known at run time"
    RUN_TIME_LOOKUP = "looks an attribute up by a name known at run time"
    GLOBAL_IGNORE_SETTING = "the app-wide ignore_result default"
    CALL_SITE_IGNORE = "ignore_result given at a call or on a decorator"
    BACKEND_SETTING = "the result backend"
    ANNOTATIONS_SETTING = "task annotations, which may set ignore_result for any task"
    EXPIRES_SETTING = "how long a stored result lives (the audit report's estimate; no rule depends on it)"
    EXTENDED_SETTING = "whether stored results also hold the task's name and arguments (the audit report's)"
    BEAT_SETTING = "the beat schedule (beat never reads results)"
    DYNAMIC_CONFIG = "configuration read at run time"
    LOADED_CONFIG = "loads the app's configuration from an object, a module or a mapping"
    ON_COMMIT = "runs a callback after the transaction commits and drops its return value"
    LOGGING = "a call that only prints or logs what it is given"
    NOT_CELERY_SIGNATURE = "a module whose signature() is not Celery's"


@dataclass(frozen=True)
class Term:
    role: Role
    names: Tuple[str, ...]
    # How a file that uses the term can be told from its text alone: a regex fragment matched against the
    # lowered text, or None, with the reason it needs none.
    token: Optional[bytes]
    untokened: str = ""
    example: str = ""  # a module using the term; the line ending in ``# <-`` must survive prefilter and slicer


def word(name: str) -> bytes:
    """The name anywhere in the text (in strings and comments too: a wider net, never a narrower one)."""
    return re.escape(name.lower().encode())


def attribute(name: str, then: bytes = rb"\b") -> bytes:
    """``.name``, allowing what Python allows between the dot and the name: spaces, line breaks in brackets,
    backslash continuations, a comment to the line's end (``x.  # why``, then ``delay()`` on the next line)."""
    return rb"\.(?:\s|\\|#[^\n]*\n)*" + re.escape(name.encode()) + then


QUOTE = rb"['\"]"  # a name written as a string: ``getattr(job, "delay")``


IMPORTED = "only reachable through an import from celery, whose line holds the token 'celery'"
THROUGH_A_SIGNATURE = "only called on a signature, which holds a signature token itself"
DISCARDS = "a use that only ever discards a result: a file with no other token can hide a finding, never make one"
BY_NAMES = "its file matters only if it names a task, which phase two finds by the task's name"
NOT_A_USE = "read on a value already followed from a use that has a token"
NOT_IN_SOURCE = "a fallback name, never written as such"
ANY_TASK = ("phase one also takes a file holding both a run-time import and a run-time lookup: "
            "getattr(import_module(path), name) may be any task; otherwise reached through names, in phase two")

TASK = "from proj.tasks import job\n\n\ndef view(x):\n    y = x\n"  # examples build on a view of task ``job``

TERMS: Tuple[Term, ...] = (
    Term(Role.PACKAGE, ("celery",), word("celery"), example="import os\nfrom celery import group  # <-\n"),
    Term(Role.TASK_DECORATOR, ("celery.shared_task", "celery.task", "celery.app.shared_task", "celery.decorators.task",
                               "celery.task.task", "celery.current_app.task", "celery.app.task"), None, IMPORTED,
         "import os\nfrom celery import shared_task\n\n\n@shared_task  # <-\ndef job():\n    pass\n"),
    Term(Role.APP_TASK_DECORATOR, ("task",), attribute("task"),
         example="from proj.worker import app\n\n\n@app.task  # <-\ndef job():\n    pass\n"),
    Term(Role.TASK_DECORATOR_HINT, ("_task",), rb"_task\b",
         example="from proj.jobs import nightly_task\n\n\n@nightly_task  # <-\ndef job():\n    pass\n"),
    Term(Role.APP_CLASS, ("celery.Celery", "celery.app.Celery", "celery.app.base.Celery"), None, IMPORTED,
         "import os\nfrom celery import Celery\n\napp = Celery('proj')  # <-\n"),
    Term(Role.APP_EXTENSION, ("flask_celeryext.FlaskCeleryExt.celery", "flask_celeryext.ext.FlaskCeleryExt.celery"),
         None, "its module makes the app, and holds the token 'celery'"),
    Term(Role.APP_NAME, ("app", "celery", "celery_app", "capp", "celeryapp", "current_app"), None, NOT_IN_SOURCE),
    Term(Role.TASK_NAMER, ("gen_task_name",), word("gen_task_name"),
         example="import os\n\n\nclass Jobs(App):\n    x = 1\n\n    def gen_task_name(self, name, module):  # <-\n"
                 "        return name\n"),
    Term(Role.TASK_CLASS, ("celery.Task", "celery.app.task.Task", "celery.task.Task", "celery.app.Task"), None, IMPORTED,
         "from celery import Task\n\n\nclass Job(Task):\n    x = 1\n    name = 'proj.job'  # <-\n"),
    Term(Role.TASK_CLASS_ATTRIBUTE, ("ignore_result", "name", "abstract", "store_errors_even_if_ignored",
                                     "track_started"), None,
         "read in the body of a class whose bases hold a task token",
         "from celery import Task\n\n\nclass Job(Task):\n    x = 1\n    abstract = True  # <-\n"),
    Term(Role.ENQUEUE, ("delay",), attribute("delay"), example=TASK + "    job.delay(y)  # <-\n"),
    Term(Role.ENQUEUE, ("delay",), QUOTE + b"delay" + QUOTE, example=TASK + "    getattr(job, 'delay')(y)  # <-\n"),
    Term(Role.ENQUEUE, ("apply_async",), word("apply_async"), example=TASK + "    job.apply_async((y,))  # <-\n"),
    # Each name in full: ``_on_commit`` alone would take every model with a ``push_on_commit`` field.
    Term(Role.ENQUEUE_ON_COMMIT, ("delay_on_commit",), word("delay_on_commit"),
         example=TASK + "    job.delay_on_commit(y)  # <-\n"),
    Term(Role.ENQUEUE_ON_COMMIT, ("apply_async_on_commit",), None, "holds the token 'apply_async'",
         example=TASK + "    job.apply_async_on_commit((y,))  # <-\n"),
    Term(Role.SEND_BY_NAME, ("send_task",), word("send_task"),
         example="def view(app):\n    y = 1\n    app.send_task('proj.job', (y,))  # <-\n"),
    Term(Role.SIGNATURE, ("s",), attribute("s", rb"\("), example=TASK + "    sig = job.s(y)  # <-\n"),
    Term(Role.SIGNATURE, ("si",), attribute("si", rb"\("), example=TASK + "    sig = job.si(y)  # <-\n"),
    Term(Role.SIGNATURE, ("signature",), word("signature") + rb"\(", example=TASK + "    sig = job.signature((y,))  # <-\n"),
    Term(Role.SIGNATURE, ("subtask",), word("subtask"), example=TASK + "    sig = job.subtask((y,))  # <-\n"),
    Term(Role.SIGNATURE_CLASS, ("signature", "Signature"), word("signature") + rb"\(",
         example="from proj.canvas import Signature\n\n\ndef view():\n    Signature('proj.job').delay()  # <-\n"),
    Term(Role.SIGNATURE_CHAINABLE, ("set", "clone", "replace", "on_error", "set_immutable", "freeze", "stamp"), None,
         THROUGH_A_SIGNATURE, TASK + "    job.s(y).set(queue='a').delay()  # <-\n"),
    Term(Role.CHAIN, ("chain",), None, IMPORTED, "from celery import chain\n\n\ndef view(a, b):\n    chain(a, b)()  # <-\n"),
    Term(Role.GROUP, ("group",), None, IMPORTED, "from celery import group\n\n\ndef view(a):\n    group(a).delay()  # <-\n"),
    Term(Role.CHORD, ("chord",), None, IMPORTED, "from celery import chord\n\n\ndef view(a, b):\n    chord(a)(b)  # <-\n"),
    Term(Role.INLINE, ("map", "starmap", "chunks"), None, DISCARDS, TASK + "    job.map(y)  # <-\n"),
    Term(Role.EAGER, ("apply",), None, DISCARDS, TASK + "    job.apply((y,))  # <-\n"),
    Term(Role.LINK_KEYWORD, ("link", "link_error"), None, "a keyword of apply_async, which has its own token",
         TASK + "    job.apply_async(link=y)  # <-\n"),
    Term(Role.LINK_METHOD, ("link", "link_error", "on_error"), None, THROUGH_A_SIGNATURE,
         TASK + "    job.s(y).on_error(y)  # <-\n"),
    Term(Role.PERIODIC, ("add_periodic_task",), None, "holds the hint token '_task' (and beat only discards)",
         "def setup(sender, job):\n    y = 1\n    sender.add_periodic_task(10.0, job.s())  # <-\n"),
    Term(Role.PERIODIC_TASK_MODEL, ("PeriodicTask",), None, DISCARDS),
    Term(Role.TASK_REGISTRY, ("tasks",), attribute("tasks", rb"\s*\["),
         example="def view(app, name):\n    y = 1\n    app.tasks[name].delay(y)  # <-\n"),
    Term(Role.NO_READ, ("forget", "revoke", "revoke_by_stamped_headers"), None, NOT_A_USE),
    Term(Role.ID_ATTRIBUTE, ("id", "task_id"), None, NOT_A_USE),
    Term(Role.READ_BY_ID, ("AsyncResult", "AbortableAsyncResult"), word("AsyncResult"),
         example="from proj.worker import app\n\n\ndef status(i):\n    y = 1\n    return app.AsyncResult(i).state  # <-\n"),
    Term(Role.READ_BY_ID, ("GroupResult",), word("GroupResult"),
         example="def status(i, GroupResult):\n    y = 1\n    return GroupResult(i).ready()  # <-\n"),
    Term(Role.READ_BY_ID, ("result_from_tuple",), word("result_from_tuple"),
         example="def status(t, result_from_tuple):\n    y = 1\n    return result_from_tuple(t).get()  # <-\n"),
    Term(Role.BACKEND_READ, ("get_result", "get_status", "get_state", "get_traceback", "get_children", "get_many",
                             "wait_for"),
         attribute("backend", rb"(?:\s|\\)*\.(?:\s|\\)*(?:get_result|get_status|get_state|get_traceback"
                              rb"|get_children|get_many|wait_for)\b"),
         example="def status(app, i):\n    y = 1\n    return app.backend.get_result(i)  # <-\n"),
    # the backend kept in a variable (``be = app.backend``), then asked: both lines are read
    Term(Role.BACKEND_READ, ("get_result", "get_status", "get_state", "get_traceback", "get_children", "get_many"),
         attribute("", rb"(?:get_result|get_status|get_state|get_traceback|get_children|get_many)(?:\s|\\)*\("),
         example="def status(be, i):\n    y = 1\n    return be.get_status(i)  # <-\n"),
    Term(Role.BACKEND_HELD, ("backend",), attribute("backend", rb"[ \t]*(?:#|\r?\n|$)"),
         example="def status(app, i):\n    y = 1\n    be = app.backend  # <-\n    return be.get_status(i)\n"),
    # names no other library uses: a read on any receiver (``b = app.backend; b.get_task_meta(i)``)
    Term(Role.BACKEND_READ, ("get_task_meta", "_get_task_meta_for"), word("get_task_meta"),
         example="def status(b, i):\n    y = 1\n    return b.get_task_meta(i)  # <-\n"),
    Term(Role.BACKEND_READ, ("restore_group", "get_group_meta", "reload_task_result", "reload_group_result",
                             "task_result_exists"),
         attribute("", rb"(?:restore_group|get_group_meta|reload_task_result|reload_group_result|task_result_exists)\b"),
         example="def status(b, i):\n    y = 1\n    return b.restore_group(i)  # <-\n"),
    # the key a key-value backend stores a result under: read straight from the store (``redis.get(key)``)
    Term(Role.BACKEND_READ, ("get_key_for_task",), None, "holds the hint token '_task'",
         example="def status(b, r, i):\n    y = 1\n    return r.get(b.get_key_for_task(i))  # <-\n"),
    Term(Role.RESULT_MODEL, ("TaskResult",), word("TaskResult"),
         example="from django_celery_results.models import TaskResult\n\n\ndef status(i):\n    y = 1\n"
                 "    return TaskResult.objects.get(task_id=i).status  # <-\n"),
    Term(Role.RESTORE, ("GroupResult.restore",), None, "called on GroupResult, which has its own token",
         "def status(i, GroupResult):\n    y = 1\n    return GroupResult.restore(i).get()  # <-\n"),
    Term(Role.PROGRESS, ("update_state",), word("update_state"),
         example="def work(self):\n    y = 1\n    self.update_state(state='PROGRESS')  # <-\n"),
    # what update_state does, written with the backend itself (only on ``<x>.backend``: ``analysis.definitions``)
    # (each name alone: a helper may be handed the backend, ``backend.store_result(tid, meta, "PROGRESS")``)
    Term(Role.PROGRESS, ("store_result",), word("store_result"),
         example="def work(self):\n    y = 1\n    self.backend.store_result(self.request.id, {}, 'PROGRESS')  # <-\n"),
    Term(Role.PROGRESS, ("mark_as_started",), word("mark_as_started"),
         example="def work(backend, i):\n    y = 1\n    backend.mark_as_started(i)  # <-\n"),
    Term(Role.CURRENT_TASK, ("celery.current_task", "celery._state.current_task", "celery.app.current_task"), None,
         IMPORTED, "from celery import current_task\n\n\ndef work():\n    y = 1\n    current_task.update_state(state='P')  # <-\n"),
    Term(Role.REQUEST, ("request",), None, "inside a task body: the body is kept for the task's decorator",
         "from proj.worker import app\n\n\n@app.task(bind=True)\ndef job(self):\n    y = 1\n    save(self.request.id)  # <-\n"),
    Term(Role.REQUEST_ID, ("id", "task_id", "root_id", "parent_id"), None, NOT_A_USE),
    Term(Role.RUN_TIME_IMPORT, ("import_module", "import_string", "__import__", "symbol_by_name", "resolve_name"), None,
         ANY_TASK,
         "from importlib import import_module\n\n\ndef view(path, name):\n    y = 1\n    run(getattr(import_module(path), name))  # <-\n"),
    Term(Role.RUN_TIME_LOOKUP, ("getattr",), None, ANY_TASK,
         "from proj import tasks\n\n\ndef view(name):\n    y = 1\n    getattr(tasks, name).delay()  # <-\n"),
    Term(Role.GLOBAL_IGNORE_SETTING, ("task_ignore_result", "CELERY_TASK_IGNORE_RESULT", "CELERY_IGNORE_RESULT"),
         word("ignore_result"), example="DEBUG = True\ntask_ignore_result = True  # <-\n"),
    Term(Role.CALL_SITE_IGNORE, ("ignore_result",), word("ignore_result"), example=TASK + "    job.apply(ignore_result=True)  # <-\n"),
    Term(Role.BACKEND_SETTING, ("result_backend", "CELERY_RESULT_BACKEND", "CELERY_BACKEND"), word("result_backend"),
         example="DEBUG = True\nresult_backend = 'redis://'  # <-\n"),
    Term(Role.ANNOTATIONS_SETTING, ("task_annotations", "CELERY_TASK_ANNOTATIONS", "CELERY_ANNOTATIONS"),
         word("task_annotations"), example="DEBUG = True\ntask_annotations = {'*': {'ignore_result': True}}  # <-\n"),
    Term(Role.EXPIRES_SETTING, ("result_expires", "CELERY_RESULT_EXPIRES", "CELERY_TASK_RESULT_EXPIRES"),
         word("result_expires"), example="DEBUG = True\nresult_expires = 3600  # <-\n"),
    Term(Role.EXTENDED_SETTING, ("result_extended", "CELERY_RESULT_EXTENDED"), word("result_extended"),
         example="DEBUG = True\nresult_extended = True  # <-\n"),
    Term(Role.BEAT_SETTING, ("beat_schedule", "CELERY_BEAT_SCHEDULE", "CELERYBEAT_SCHEDULE"), word("beat_schedule"),
         example="DEBUG = True\nbeat_schedule = {'a': {'task': 'proj.job'}}  # <-\n"),
    Term(Role.DYNAMIC_CONFIG, ("config_from_envvar",), word("config_from_envvar"),
         example="def setup(app):\n    y = 1\n    app.config_from_envvar('PROJ_CONFIG')  # <-\n"),
    Term(Role.LOADED_CONFIG, ("config_from_object", "config_source"), word("config_from_object"),
         example="def setup(app, load):\n    y = 1\n    app.config_from_object(load('celeryconfig'))  # <-\n"),
    Term(Role.LOADED_CONFIG, ("DJANGO_SETTINGS_MODULE",), word("django_settings_module"),
         example="import os\n\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings')  # <-\n"),
    Term(Role.LOADED_CONFIG, ("update",), attribute("conf", rb"(?:\s|\\)*\.(?:\s|\\)*update\b"),
         example="def setup(app, extra):\n    y = 1\n    app.conf.update(extra)  # <-\n"),
    Term(Role.ON_COMMIT, ("on_commit",), None, DISCARDS, TASK + "    on_commit(lambda: job.delay(y))  # <-\n"),
    Term(Role.LOGGING, ("print", "debug", "info", "warning", "warn", "error", "exception", "critical", "log", "str", "repr"),
         None, NOT_A_USE),
    Term(Role.NOT_CELERY_SIGNATURE, ("inspect", "funcsigs", "typing", "sqlalchemy", "sqlalchemy.inspect"), None,
         NOT_IN_SOURCE),
)


@functools.lru_cache(maxsize=None)  # the summary asks on every attribute it visits
def names(*roles: Role) -> FrozenSet[str]:
    """Every name the table gives these roles."""
    return frozenset(name for term in TERMS if term.role in roles for name in term.names)


def tokens() -> Tuple[bytes, ...]:
    """The prefilter's regex fragments, one per distinct token of the table."""
    return tuple(dict.fromkeys(term.token for term in TERMS if term.token is not None))


# The names the analysis asks about most, spelled once.
TASK_DECORATORS = names(Role.TASK_DECORATOR)
APP_CLASSES = names(Role.APP_CLASS)
TASK_CLASSES = names(Role.TASK_CLASS)
APP_NAMES = names(Role.APP_NAME)
TASK_CLASS_ATTRIBUTES = names(Role.TASK_CLASS_ATTRIBUTE)
ENQUEUE = names(Role.ENQUEUE)
ENQUEUE_ON_COMMIT = names(Role.ENQUEUE_ON_COMMIT)
SIGNATURE = names(Role.SIGNATURE)
SIGNATURE_CHAINABLE = names(Role.SIGNATURE_CHAINABLE)
CHAIN, GROUP, CHORD = names(Role.CHAIN), names(Role.GROUP), names(Role.CHORD)
CANVAS = CHAIN | GROUP | CHORD
INLINE = names(Role.INLINE)
EAGER = names(Role.EAGER)
LINK_KEYWORDS = names(Role.LINK_KEYWORD)
LINK_METHODS = names(Role.LINK_METHOD)
NO_READ = names(Role.NO_READ)
ID_ATTRIBUTES = names(Role.ID_ATTRIBUTE)
READ_BY_ID = names(Role.READ_BY_ID)
OWN_BACKEND_READS = frozenset({"get_task_meta", "_get_task_meta_for", "get_key_for_task", "restore_group", "get_group_meta",
                               "reload_task_result", "reload_group_result", "task_result_exists"})  # a backend's, whatever holds it
# Task methods the worker calls with the task's id, and the parameters through which Celery hands a task signal's
# receiver (or such a hook) a task's id
TASK_HOOKS = frozenset({"on_success", "on_failure", "after_return", "on_retry", "before_start"})
ID_PARAMETERS = frozenset({"task_id", "headers", "request", "body"})
# What a result handle gives of the tasks its task started (``r.children[0].get()``, ``r.collect()``): their results
RESULT_CHILDREN = frozenset({"children", "collect", "iterdeps", "graph", "build_graph"})
# The result methods that block until the task is done: each calls ``assert_will_not_block()`` (CEL004).
BLOCKING_READS = frozenset({"get", "wait", "join", "join_native"})
CURRENT_TASK = names(Role.CURRENT_TASK)
REQUEST_IDS = names(Role.REQUEST_ID)
RUN_TIME_IMPORTS = names(Role.RUN_TIME_IMPORT)
GLOBAL_IGNORE_SETTINGS = names(Role.GLOBAL_IGNORE_SETTING)
BACKEND_SETTINGS = names(Role.BACKEND_SETTING)
ANNOTATIONS_SETTINGS = names(Role.ANNOTATIONS_SETTING)
EXPIRES_SETTINGS = names(Role.EXPIRES_SETTING)
EXTENDED_SETTINGS = names(Role.EXTENDED_SETTING)
LOGGING = names(Role.LOGGING)
NOT_CELERY_SIGNATURE = names(Role.NOT_CELERY_SIGNATURE)
