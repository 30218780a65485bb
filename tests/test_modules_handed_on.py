"""``speed.modules_handed_on.bare_uses``: a module holding tasks, bound by an import and then written bare, is
found from the text (the fast path then reads those statements, as the plain path does); an attribute of it, a
string, a call of a function of the same name or a module of another package is not."""
from __future__ import annotations

import pytest

from celery_lint.speed.modules_handed_on import IMPORT_STATEMENT, bare_uses, import_statements

TASKS = b"proj.tasks"


def lines_of(source: bytes, modules=(TASKS,)) -> dict:
    return {module.decode(): sorted({source[:offset].count(b"\n") + 1 for offset in offsets})
            for module, offsets in bare_uses(source, modules).items()}


@pytest.mark.parametrize("source, lines", [
    (b"from proj import tasks\n\nrun(tasks)\n", [3]),
    (b"from proj import tasks as t\nMODULES = [t]\n", [2]),
    (b"from . import tasks\nclass V:\n    mod = tasks\n", [3]),
    (b"from .. import (\n    models,  # (the models)\n    tasks,\n)\nrun(tasks)\n", [5]),
    (b"import proj.tasks\nrun(proj.tasks)\n", [2]),
    (b"import proj.tasks\nrun(proj . tasks)\n", [2]),
    (b"import proj.tasks as t\nrun(t)\n", [2]),
    (b"def go():\n    import proj.tasks as t\n    return run(t)\n", [3]),
    (b"from proj.api import tasks\nrun(tasks)\n", [2]),  # a package of the project re-exporting it
    (b"from proj import tasks\nrun(x, mod=tasks)\nrun(tasks)\n", [2, 3]),
    (b"from proj import \\\n    tasks\nrun(tasks)\n", [3]),
])
def test_a_module_bound_by_an_import_and_written_bare_is_found(source, lines):
    assert lines_of(source) == {"proj.tasks": lines}


@pytest.mark.parametrize("source", [
    b"from proj import tasks\n\ntasks.render.delay(1)\n",  # an attribute: the task's name covers it
    b"from proj.tasks import render\n\nrun(tasks)\n",  # ``tasks`` is not bound by the import
    b"from django.conf import tasks\n\nrun(tasks)\n",  # a module of another package
    b"from proj import tasks\n\nx = '/tasks/'\ny = \"tasks\"\n",  # strings
    b"from proj.views import tasks\n\ntasks(request)\n",  # a view of the same name, called
    b"from proj import tasks\n\nx.tasks = 1\n",  # an attribute of something else
    b"import proj\nrun(proj)\n",  # another module
    b"run(tasks)\n",  # not imported at all
])
def test_an_attribute_a_string_a_call_or_another_module_is_not_a_module_handed_on(source):
    assert lines_of(source) == {}


def test_a_module_named_without_its_folder_is_bound_by_the_folder_s_import():
    """``proj/tasks.py`` in a folder without ``__init__.py`` is the module ``tasks``; code imports it as
    ``proj.tasks``, which the analysis resolves to it."""
    assert lines_of(b"from proj import tasks\nrun(tasks)\n", (b"tasks",)) == {"tasks": [2]}


@pytest.mark.parametrize("source", [
    b"import a\nfrom b import c\n",
    b"x = 1  # import y\nimport z\n",
    b"from a import (b,  # import c (really)\n    d)\nimport e  # import f\n",
    b"from a import \\\n    b, c\nimport d\n",
    b's = """\nimport not_code\n"""\n',
    b"if x: import a\n    import b\n",
    b"from importlib import import_module\nimport_module('x')\n",
    b"from a import (b,\n",  # unclosed: the rest of the file
    b"\r\nimport a\r\nfrom b import c\r\n",
])
def test_import_statements_are_the_statement_pattern_s_matches(source):
    """``import_statements`` only looks where the word ``import`` is: the same matches as the pattern tried at every
    line start."""
    assert [m.span() for m in import_statements(source)] == [m.span() for m in IMPORT_STATEMENT.finditer(source)]
