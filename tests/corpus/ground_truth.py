"""Maintainers' decisions as ground truth: strip their ``ignore_result=True`` and see how much CEL001 recovers.

For a corpus project, copy it to a temporary directory, remove every ``ignore_result=True`` keyword from task
decorators (``@shared_task(ignore_result=True)``, ``@app.task(..., ignore_result=True)``, also the
``app.task(ignore_result=True)(func)`` registration form) and every global ``task_ignore_result = True``
(Mayan's ``CELERY_TASK_IGNORE_RESULT = True`` in ``mayan/settings/base.py``), keep ``ignore_result=False``,
run celery-lint on the copy, and compare: a task the maintainers decided to ignore should come back as CEL001,
unless its result really is read (then the maintainers' flag was itself a bug, CEL002 territory) or the analysis
has a reason to stay silent, which ``--explain`` gives.

Used by ``tests/test_corpus.py``; runnable as a script that prints the table::

    python tests/corpus/ground_truth.py [CORPUS_DIR] [PROJECT_DIR_NAME ...]
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple

import libcst as cst

from celery_lint import config as config_module
from celery_lint import engine, pipeline

GLOBAL_IGNORE_NAMES = {"CELERY_TASK_IGNORE_RESULT", "CELERY_IGNORE_RESULT", "task_ignore_result"}
SKIP_DIRS = {".celery_lint_cache", "__pycache__"}


@dataclass
class Stripped:
    module_path: str  # file, relative to the project root
    qualname: str  # dotted path of the function inside the module (``send`` or ``Outer.send``)


@dataclass
class Miss:
    task: str
    where: str  # path:line of the task
    state: str  # the verdict: read / maybe / unused / unread ...
    reason: str


@dataclass
class GroundTruth:
    project: str
    stripped: List[Stripped] = field(default_factory=list)
    globals_stripped: List[str] = field(default_factory=list)  # path:line of removed global settings
    recovered: List[str] = field(default_factory=list)  # task names that came back as CEL001
    misses: List[Miss] = field(default_factory=list)
    not_found: List[Stripped] = field(default_factory=list)  # stripped decorators that made no task
    kept_false: List[str] = field(default_factory=list)  # tasks with ignore_result=False (must not get CEL001)
    kept_false_flagged: List[str] = field(default_factory=list)  # ... that did get CEL001: a bug

    @property
    def share(self) -> float:
        found = len(self.recovered) + len(self.misses)
        return len(self.recovered) / found if found else 0.0


class _Stripper(cst.CSTTransformer):
    """Removes ``ignore_result=True`` from decorator calls and registration calls, and global ``= True``."""

    def __init__(self, strip_globals: bool):
        super().__init__()
        self.names: List[str] = []
        self.stripped: List[str] = []  # qualnames
        self.globals: List[cst.CSTNode] = []
        self.strip_globals = strip_globals
        self.depth = 0

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.names.append(node.name.value)

    def leave_ClassDef(self, original, updated):
        self.names.pop()
        return updated

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.names.append(node.name.value)

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef):
        qualname = ".".join(self.names)
        self.names.pop()
        decorators = []
        changed = False
        for decorator in updated.decorators:
            expr = decorator.decorator
            new = _without_ignore_true(expr)
            if new is not expr:
                changed = True
                decorator = decorator.with_changes(decorator=new)
            decorators.append(decorator)
        if changed:
            self.stripped.append(qualname)
            return updated.with_changes(decorators=decorators)
        return updated

    def leave_Call(self, original: cst.Call, updated: cst.Call):
        # ``app.task(name="x", ignore_result=True)(func)``
        inner = updated.func
        if isinstance(inner, cst.Call) and isinstance(inner.func, cst.Attribute) and inner.func.attr.value == "task":
            new = _without_ignore_true(inner)
            if new is not inner and updated.args and isinstance(updated.args[0].value, (cst.Name, cst.Attribute)):
                self.stripped.append(cst.Module(body=[]).code_for_node(updated.args[0].value))
                return updated.with_changes(func=new)
        return updated

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign):
        if not self.strip_globals or len(updated.targets) != 1:
            return updated
        target = updated.targets[0].target
        name = target.value if isinstance(target, cst.Name) else target.attr.value if isinstance(target, cst.Attribute) else None
        if name in GLOBAL_IGNORE_NAMES and isinstance(updated.value, cst.Name) and updated.value.value == "True":
            self.globals.append(original)
            # keep the line (line numbers stay put): the setting is now explicitly the default
            return updated.with_changes(value=cst.Name("False"))
        return updated


def _without_ignore_true(expr: cst.BaseExpression) -> cst.BaseExpression:
    if not isinstance(expr, cst.Call):
        return expr
    args = list(expr.args)
    for i, arg in enumerate(args):
        if arg.keyword is not None and arg.keyword.value == "ignore_result" and isinstance(arg.value, cst.Name) \
                and arg.value.value == "True":
            removed = args.pop(i)
            if args and i == len(args):  # it was the last one: the new last one takes over its comma
                args[-1] = args[-1].with_changes(comma=removed.comma)
            return expr.with_changes(args=args)
    return expr


def strip_project(root: Path, strip_globals: bool = True) -> Tuple[List[Stripped], List[str]]:
    """Edit the project at ``root`` in place; return the stripped tasks and the removed global settings."""
    stripped: List[Stripped] = []
    globals_removed: List[str] = []
    for path in sorted(root.rglob("*.py")):
        if SKIP_DIRS & set(path.relative_to(root).parts):
            continue
        source = path.read_bytes()
        if b"ignore_result" not in source and not any(n.encode() in source for n in GLOBAL_IGNORE_NAMES):
            continue
        try:
            module = cst.parse_module(source)
        except cst.ParserSyntaxError:
            continue
        wrapper = cst.MetadataWrapper(module, unsafe_skip_copy=True)
        positions = wrapper.resolve(cst.metadata.PositionProvider)
        stripper = _Stripper(strip_globals)
        new = wrapper.module.visit(stripper)
        relative = path.relative_to(root).as_posix()
        if new.code != module.code:
            path.write_bytes(new.bytes)
        stripped.extend(Stripped(relative, q) for q in stripper.stripped)
        globals_removed.extend(f"{relative}:{positions[g].start.line}" for g in stripper.globals if g in positions)
    return stripped, globals_removed


def analyse(root: Path):
    """The engine's report, with the linked ``Project`` attached (to explain an 'unread' without CEL001)."""
    captured = {}
    original = pipeline.Project

    class Capturing(original):  # the last Project the engine builds is the one it judges with
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            captured["project"] = self

    pipeline.Project = Capturing
    try:
        report = engine.analyse_root(root, config_module.load(root), use_cache=False)
    finally:
        pipeline.Project = original
    report.project = captured.get("project")
    return report


def ground_truth(project_dir: Path, strip_globals: bool = True) -> GroundTruth:
    """Copy, strip, analyse, compare (see the module docstring)."""
    result = GroundTruth(project_dir.name)
    with tempfile.TemporaryDirectory(prefix="celery-lint-gt-") as temp:
        root = Path(temp) / project_dir.name
        shutil.copytree(project_dir, root, ignore=shutil.ignore_patterns(*SKIP_DIRS))
        result.stripped, result.globals_stripped = strip_project(root, strip_globals)
        report = analyse(root)
    flagged = {(f.path, f.line) for f in report.findings if f.code == "CEL001"}
    for stripped in result.stripped:
        match = _find(report.verdicts, stripped)
        if match is None:
            result.not_found.append(stripped)
            continue
        task, verdict = match
        name = task.name or task.qualname
        if (task.path, task.line) in flagged:
            result.recovered.append(name)
        else:
            reason = verdict.reason
            if verdict.state == "unread":
                reason += _why_unread_is_silent(report, task)
            result.misses.append(Miss(name, f"{task.path}:{task.line}", verdict.state, reason))
    for task, _verdict in report.verdicts:
        if task.own_ignore is False:
            result.kept_false.append(task.name or task.qualname)
            if (task.path, task.line) in flagged:
                result.kept_false_flagged.append(task.name or task.qualname)
    return result


def _find(verdicts, stripped: Stripped) -> Optional[tuple]:
    function = stripped.qualname.rpartition(".")[2]
    candidates = [(t, v) for t, v in verdicts if t.qualname.endswith("." + stripped.qualname) or t.qualname == stripped.qualname]
    in_file = [(t, v) for t, v in candidates if t.path == stripped.module_path]
    if in_file:
        return in_file[0]
    if len(candidates) == 1:  # a registration call in another file than the function
        return candidates[0]
    named = [(t, v) for t, v in verdicts if t.qualname.rpartition(".")[2] == function and t.path == stripped.module_path]
    return named[0] if named else None


def _why_unread_is_silent(report, task) -> str:
    """'unread' yet no CEL001: the effective ignore_result or the backend explains it."""
    from celery_lint.rules import effective_ignore

    project = getattr(report, "project", None)
    if project is None:
        return " (no CEL001: the effective ignore_result is not False, or no backend is configured)"
    value, source = effective_ignore(task, project.settings)
    return f" (no CEL001: ignore_result is {value} from {source}; backend {project.settings.backend})"


def format_table(results: List[GroundTruth]) -> str:
    lines = ["| project | stripped ignore_result=True | globals stripped | CEL001 back | share | misses |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in results:
        lines.append(f"| {r.project} | {len(r.stripped)} | {len(r.globals_stripped)} | {len(r.recovered)} | "
                     f"{r.share:.0%} | {len(r.misses)} |")
    for r in results:
        if r.misses or r.not_found or r.kept_false:
            lines.append("")
            lines.append(f"{r.project}:")
        for miss in r.misses:
            lines.append(f"  miss {miss.where} {miss.task}: {miss.state}: {miss.reason}")
        for nf in r.not_found:
            lines.append(f"  stripped but not a task: {nf.module_path} {nf.qualname}")
        if r.kept_false:
            lines.append(f"  ignore_result=False kept on {len(r.kept_false)} task(s), CEL001 on "
                         f"{len(r.kept_false_flagged)}: {', '.join(r.kept_false)}")
    return "\n".join(lines)


def main(argv: List[str]) -> int:
    corpus = Path(argv[0]) if argv else Path(__file__).resolve().parents[2] / ".corpus"
    names = argv[1:] or sorted(p.name for p in corpus.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
    results = []
    for name in names:
        result = ground_truth(corpus / name)
        if result.stripped or result.globals_stripped:
            results.append(result)
    print(format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
