"""The folder list is the architecture, and imports run with the pipeline: a module imports only modules
before it in ``PIPELINE`` (the vocabulary and shared types first, then what a file says and how the project
links, the rules, the files of a project, the speed machinery, fixes, the engine, the front ends). In particular
nothing in ``analysis/`` or ``rules/`` imports ``speed/``: the speed layer can skip work, never decide."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "celery_lint"

PIPELINE = [
    "celery_lint", "celery_lint.celery_api", "celery_lint.types", "celery_lint.text",
    "celery_lint.analysis", "celery_lint.analysis.facts", "celery_lint.analysis.sites", "celery_lint.analysis.statements",
    "celery_lint.analysis.guard", "celery_lint.analysis.parsing", "celery_lint.analysis.depth",
    "celery_lint.analysis.children", "celery_lint.analysis.placing", "celery_lint.analysis.scopes", "celery_lint.analysis.walk", "celery_lint.analysis.env_values", "celery_lint.analysis.call_options", "celery_lint.analysis.bound_names", "celery_lint.analysis.canvas", "celery_lint.analysis.flow",
    "celery_lint.analysis.given", "celery_lint.analysis.literals", "celery_lint.analysis.containers",
    "celery_lint.analysis.carriers", "celery_lint.analysis.sinks", "celery_lint.analysis.errbacks", "celery_lint.analysis.instance_attrs", "celery_lint.analysis.reads_by_id", "celery_lint.analysis.mentions", "celery_lint.analysis.config_sources",
    "celery_lint.analysis.definitions", "celery_lint.analysis.task_forms", "celery_lint.analysis.summary",
    "celery_lint.analysis.symbols", "celery_lint.analysis.project_tasks", "celery_lint.analysis.returned", "celery_lint.analysis.callers", "celery_lint.analysis.reach", "celery_lint.analysis.loaded_settings",
    "celery_lint.analysis.readers_imported", "celery_lint.analysis.settings",
    "celery_lint.analysis.project", "celery_lint.analysis.verdicts", "celery_lint.analysis.waits",
    "celery_lint.rules.base", "celery_lint.rules.unread_result", "celery_lint.rules.ignored_result_read",
    "celery_lint.rules.unread_call_result", "celery_lint.rules.result_read_in_task",
    "celery_lint.rules.unparsable_file",
    "celery_lint.rules",
    "celery_lint.project_files", "celery_lint.discovery", "celery_lint.config", "celery_lint.sources",
    "celery_lint.speed", "celery_lint.speed.modules_handed_on", "celery_lint.speed.prefilter", "celery_lint.speed.bindings", "celery_lint.speed.headers", "celery_lint.speed.kept_statements", "celery_lint.speed.slicing", "celery_lint.speed.reuse", "celery_lint.speed.own_names", "celery_lint.speed.defining_modules",
    "celery_lint.speed.cache_dir", "celery_lint.speed.cache", "celery_lint.speed.answers", "celery_lint.speed.buffer_answer", "celery_lint.speed.parallel", "celery_lint.speed.rounds",
    "celery_lint.speed.syntax",
    "celery_lint.fixing", "celery_lint.fixing.arguments", "celery_lint.fixing.call_edits", "celery_lint.fixing.edits", "celery_lint.fixing.writing", "celery_lint.fixing.noqa",
    "celery_lint.fixing.config_scan", "celery_lint.fixing.task_packages", "celery_lint.fixing.global_setting", "celery_lint.fixing.global_strategy",
    "celery_lint.pipeline", "celery_lint.engine",
    "celery_lint.redis_url", "celery_lint.redis_wire", "celery_lint.redis_scan", "celery_lint.report", "celery_lint.report.costs", "celery_lint.report.expiry_advice", "celery_lint.report.returns",
    "celery_lint.report.audit", "celery_lint.report.live", "celery_lint.report.render",
    "celery_lint.frontends", "celery_lint.frontends.output", "celery_lint.frontends.global_fix",
    "celery_lint.frontends.explain", "celery_lint.frontends.report_command", "celery_lint.frontends.cli",
    "celery_lint.frontends.flake8_plugin",
    "celery_lint.__main__",
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, name: str):
    """Every celery_lint module ``path`` imports (at any depth of the file: lazy imports count too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield candidate if candidate in PIPELINE else base
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def test_every_module_is_in_the_pipeline():
    assert sorted(module_name(p) for p in PACKAGE.rglob("*.py")) == sorted(PIPELINE)


def test_imports_run_with_the_pipeline():
    against = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        for target in imported(path, name):
            if target.startswith("celery_lint") and target != name and PIPELINE.index(target) > PIPELINE.index(name):
                against.append(f"{name} -> {target}")
    assert against == []
