"""``--fix --strategy global``: one ``task_ignore_result = True`` where the project configures its backend, and
``ignore_result=False`` on every task whose result is read, or may be read, so that only the tasks the analysis
clears (CEL001's) stop storing. Their own ``ignore_result=True`` flags become redundant and go.

The plan is all or nothing: when the place is ambiguous (several apps or backend places, config chosen at run
time or held outside the project, annotations that may set ignore_result) or a task that must keep storing
cannot be marked, it changes nothing and says why. The global flag also reaches tasks the analysis cannot
see (installed packages registered on the same app): the plan lists them so the user sees them first.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple

from ..analysis.facts import is_test_path
from ..analysis.symbols import HandFix
from ..types import DYNAMIC, Backend, Fix, FixAction, OutcomeKind, UseKind, VerdictState
from .config_scan import AppConfig, ScanError, scan
from .global_setting import NOT_KNOWN, Placement, Unplaceable, place
from .writing import FileFix, WriteRefused, read_as_analysed, write_all

# The analysis cannot clear these: the global flag must not stop them storing.
KEEPS = (VerdictState.READ, VerdictState.MAYBE, VerdictState.UNUSED)


@dataclass
class TaskEdit:
    task: object  # analysis.project.Task
    fix: Fix

    @property
    def label(self) -> str:
        return f"{self.task.name or self.task.qualname} ({self.task.path}:{self.task.line})"


@dataclass
class Plan:
    refused: Optional[str] = None  # why nothing is changed
    note: Optional[str] = None  # nothing to do, and why
    setting: Optional[Placement] = None  # None: the project already ignores results globally
    edits: List[TaskEdit] = field(default_factory=list)
    reaches: List[Tuple[str, str, str]] = field(default_factory=list)  # (what, package, path:line)
    resolved: Set[Tuple[str, int]] = field(default_factory=set)  # (path, line) of tasks whose findings it fixes

    def groups(self) -> List[Tuple[str, List[TaskEdit]]]:
        """The task edits by what they do: (what, edits), the non-empty ones."""
        kinds = (
            ("set ignore_result=False on the tasks whose results are read or may be read", lambda e: e.fix.value is False),
            ("remove the now redundant ignore_result=True flags",
             lambda e: e.fix.action is FixAction.REMOVE and e.task.own_ignore is True),
            ("remove ignore_result=False from the tasks whose results nobody reads",
             lambda e: e.fix.action is FixAction.REMOVE and e.task.own_ignore is False),
            ("set ignore_result=True on the tasks whose results nobody reads (their base class stores)",
             lambda e: e.fix.value is True),
        )
        found = [(text, [e for e in self.edits if belongs(e)]) for text, belongs in kinds]
        return [(text, edits) for text, edits in found if edits]

    @property
    def empty(self) -> bool:
        return self.setting is None and not self.edits


def plan(report) -> Plan:
    """What ``--strategy global`` does to the project of ``report``."""
    settings = report.settings
    chosen = Plan()
    try:
        config = scan(report.root, report.digests)
    except ScanError as exc:
        return Plan(refused=str(exc))
    chosen.reaches = config.reaches
    why = _ambiguous(settings, config)
    if why is not None:
        chosen.refused = why
        return chosen
    if settings.global_ignore is not True:
        built_in = _built_in_result_read(report)
        if built_in is not None:
            chosen.refused = built_in
            return chosen
        if not any(v.state is VerdictState.UNREAD and _stores(t) for t, v in report.verdicts):
            chosen.note = "no task stores a result nobody reads: the global flag would gain nothing"
            return chosen
        try:
            chosen.setting = _placement(report, settings, config)
        except (Unplaceable, OSError) as exc:
            chosen.refused = f"{exc}; write it by hand"
            return chosen
    cannot = []
    for task, verdict in report.verdicts:
        fix, ok = _task_fix(task, verdict.state)
        if fix is not None:
            chosen.edits.append(TaskEdit(task, fix))
        if ok:
            chosen.resolved.add((task.path, task.line))
        elif verdict.state in KEEPS and not _base_class(task, verdict.state):
            cannot.append(f"{task.name or task.qualname} ({task.path}:{task.line}{_keep_storing_by_hand(task)})")
    if cannot:
        chosen.refused = ("these tasks must keep storing but ignore_result=False cannot be added to them, so the "
                          f"global flag would silently stop them: {', '.join(cannot)}; set it by hand first")
        chosen.setting, chosen.edits = None, []
    return chosen


def _built_in_result_read(report) -> Optional[str]:
    """``t.map(xs).delay().get()``: ``.map()``/``.starmap()``/``.chunks()`` run inside Celery's own tasks, which the
    global flag stops storing too, and no ``ignore_result=False`` can be written on them."""
    for task, _verdict in report.verdicts:
        for path, use in task.uses:
            if use.kind is UseKind.EAGER and use.outcome.kind is not OutcomeKind.DISCARDED:
                return (f"{path}:{use.outcome.line}: {use.outcome.detail}; task_ignore_result = True would stop that "
                        "built-in task storing it (use --strategy per-task)")
    return None


def _keep_storing_by_hand(task) -> str:
    """``: what to do`` so that ``task`` keeps storing (never CEL001's ignore_result=True advice), or nothing."""
    if isinstance(task.manual_fix, HandFix):
        return f": {task.manual_fix.keep_storing(task.qualname.rpartition('.')[2])}"
    return f": {task.manual_fix}" if task.manual_fix else ""


def _ambiguous(settings, config: AppConfig) -> Optional[str]:
    """Why the one place for the flag cannot be told, or None: the config first, then where the backend is."""
    why = _config_unclear(settings, config)
    if why is not None or settings.global_ignore is True:
        return why  # with the flag already written, only the tasks are left
    return _place_unclear(settings, config)


def _config_unclear(settings, config: AppConfig) -> Optional[str]:
    if settings.annotations_at:
        return f"task_annotations at {settings.annotations_at} may set ignore_result for any task"
    if settings.global_ignore is DYNAMIC:
        return f"task_ignore_result is set in different ways (first at {settings.global_ignore_at})"
    if config.envvar:
        return f"the config is chosen at run time (config_from_envvar at {config.envvar[0]})"
    if config.unseen_config:
        return f"the config comes from a module outside the project (config_from_object at {config.unseen_config[0]})"
    if len(config.apps) > 1:
        return f"several Celery apps ({', '.join(config.apps)}): the flag would reach only one"
    return None


def _place_unclear(settings, config: AppConfig) -> Optional[str]:
    if settings.global_ignore_at:
        return f"task_ignore_result = False is set at {settings.global_ignore_at}: change it to True by hand"
    if settings.backend is Backend.ABSENT:
        return "the project gives its app no result backend: nothing is stored, the flag would change nothing"
    if not config.apps:
        return "no Celery app is made in the project: the settings are read by an app it cannot see"
    if len(config.namespaces) > 1:
        return f"config_from_object() is called with different namespaces ({', '.join(config.namespaces.values())})"
    if config.unseen_update and (not config.namespaces or None in config.namespaces):
        # Celery refuses a mix of old (CELERY_IGNORE_RESULT) and new (task_ignore_result) names: what it loads
        # there decides which one may be written, and nobody can see it
        return (f"conf.update() at {config.unseen_update[0]} loads settings celery-lint cannot read, which may name "
                "them in the other style (Celery refuses a mix of old and new setting names)")
    places = _places(settings)
    if not places:
        return "no place in the project configures the result backend"
    if len({path for path, _ in places}) > 1:
        return f"several places configure the backend ({', '.join(f'{p}:{n}' for p, n in places)})"
    return None


def _places(settings) -> List[Tuple[str, int]]:
    """Where a backend is set outside tests, one entry per line (``Celery(backend=)`` counts twice there)."""
    found = []
    for where in settings.backend_at:
        path, _, line = where.rpartition(":")
        if not is_test_path(path) and (path, int(line)) not in found:
            found.append((path, int(line)))
    return sorted(found)


def _placement(report, settings, config: AppConfig) -> Placement:
    path, line = _places(settings)[0]  # one file: its first setting is the one every later one follows
    namespace = next(iter(config.namespaces)) if config.namespaces else NOT_KNOWN
    return place((report.root / path).read_bytes(), path, line, namespace)


def _base_class(task, state: VerdictState) -> bool:
    """A Task subclass nothing uses as a task (never enqueued, never handed on, no registered name of its own):
    a base class others build on, which never runs, so it never stores; it cannot block the flag."""
    return (str(task.kind) == "class" and state is VerdictState.UNUSED and not task.uses
            and not task.value_escapes and task.name == task.qualname)


def _stores(task) -> bool:
    """The task stores its result today (Celery's default, or its own or its base's ignore_result=False)."""
    return task.own_ignore is False or (task.own_ignore is None and task.base_ignore in (None, False))


def _task_fix(task, state: VerdictState) -> Tuple[Optional[Fix], bool]:
    """The edit that gives ``task`` its ignore_result under the global flag, and whether it gets there.

    Tasks the analysis cannot clear keep what they have today: storing ones get ignore_result=False (a read
    task that ignores its result, CEL002, too); a maybe that ignores on purpose keeps ignoring, through the
    global flag. A cleared task (CEL001's) ignores through the global flag: its own flags go.
    """
    own, base, decorator = task.own_ignore, task.base_ignore, task.decorator
    keyword = decorator is not None and "ignore_result" in decorator.kwargs
    at = (decorator.line, decorator.col) if decorator is not None else (0, 0)
    if own is DYNAMIC:
        return None, True  # it decides for itself, whatever the global default
    if state in KEEPS:
        if own is True and state is VerdictState.READ:
            return (Fix(FixAction.SET, False, *at), True) if keyword else (None, False)
        if own is True:
            return (Fix(FixAction.REMOVE, None, *at), True) if keyword and base is not False else (None, True)
        if own is False or base is False:
            return None, True
        return (Fix(FixAction.ADD, False, *at), True) if decorator is not None and task.fixable else (None, False)
    if own is True:
        return (Fix(FixAction.REMOVE, None, *at), True) if keyword and base is not False else (None, True)
    if state is not VerdictState.UNREAD:
        return None, True  # every call site ignores already
    if own is False and keyword:
        return Fix(FixAction.SET, True, *at) if base is False else Fix(FixAction.REMOVE, None, *at), True
    if own is None and base is False:
        return (Fix(FixAction.ADD, True, *at), True) if decorator is not None and task.fixable else (None, False)
    return None, own is None


def apply(report, chosen: Plan, write: bool) -> List[FileFix]:
    """Compute every file's new content first; write only if all of them can be made and every file can be
    written (``writing.write_all``: all or nothing). A half-applied plan would be worse than none: tasks
    unmarked while the global flag is missing store results again, or the flag stops tasks that must store."""
    results = [_planned_file(report, chosen, relative, fixes) for relative, fixes in _files(chosen)]
    if any(r.error for r in results):
        for r in results:
            r.new, r.held = None, r.error is None
        return results
    if write:
        write_all(report.root, results)
    return results


def _files(chosen: Plan) -> List[Tuple[str, List[Fix]]]:
    """(path, fixes) of every file the plan changes: the task files, then the setting's file."""
    by_path: Dict[str, List[Fix]] = {}
    for edit in chosen.edits:
        by_path.setdefault(edit.task.path, []).append(edit.fix)
    setting_path = chosen.setting.path if chosen.setting is not None else None
    order = sorted(p for p in by_path if p != setting_path) + ([setting_path] if setting_path else [])
    return [(relative, by_path.get(relative, [])) for relative in order]


def _planned_file(report, chosen: Plan, relative: str, fixes: List[Fix]) -> FileFix:
    from .edits import FixError, apply_fixes  # libcst only when fixing

    with_setting = chosen.setting is not None and relative == chosen.setting.path
    result = FileFix(relative, len(fixes) + with_setting)
    try:
        result.old = read_as_analysed(report, relative)
        new = result.old
        if with_setting:
            new, fixes = _with_setting(new, chosen.setting), [_moved(f, chosen.setting) for f in fixes]
        try:
            result.new = apply_fixes(new, fixes)
        except FixError as exc:
            raise WriteRefused(f"fix not applied: {exc}") from None
    except WriteRefused as exc:
        result.error, result.new = str(exc), None
    return result


def _with_setting(source: bytes, setting: Placement) -> bytes:
    import io
    import tokenize

    import libcst as cst

    encoding = tokenize.detect_encoding(io.BytesIO(source).readline)[0]
    new = setting.apply(source.decode(encoding)).encode(encoding)
    try:  # an insertion that breaks the file must never reach the disk
        cst.parse_module(new)
        if _compiles(source):  # (newer syntax than this Python compiles: the LibCST check must do)
            compile(new, "<fixed>", "exec")
    except (cst.ParserSyntaxError, SyntaxError, ValueError) as exc:
        raise WriteRefused(f"the global flag would not parse here: {str(exc).splitlines()[0]}") from None
    return new


def _compiles(source: bytes) -> bool:
    try:
        compile(source, "<original>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def _moved(fix: Fix, setting: Placement) -> Fix:
    return Fix(fix.action, fix.value, setting.moved(fix.line), fix.col)
