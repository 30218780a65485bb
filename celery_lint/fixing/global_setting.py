"""Where ``task_ignore_result = True`` goes, and the text edit that puts it there: next to the backend setting.

Writing the flag beside the backend means "wherever results are stored, they are ignored by default": under
the same ``if``, in the same settings module or config class, in the same ``conf.update()`` call. The edit is
a text insertion at LibCST positions, so every other byte of the file stays as it was:

- ``CELERY_RESULT_BACKEND = ...`` (a settings module, a config class, ``app.conf.result_backend = ...``):
  a line after the statement, ``CELERY_TASK_IGNORE_RESULT = True`` in the project's spelling of the key;
- ``app.conf.update(result_backend=..., ...)`` / ``{"result_backend": ...}``: the key right after it;
- ``app = Celery(..., backend=...)``: a line ``app.conf.task_ignore_result = True`` after the statement.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

from .. import celery_api

NOT_KNOWN = object()  # the namespace the app reads uppercase settings with is not in the project
_LINES = re.compile(r"(?<=\n)|(?<=\r)(?!\n)")


class Unplaceable(Exception):
    """The flag cannot be written beside this backend setting; the message says why."""


@dataclass
class Placement:
    path: str
    line: int  # the backend setting's line
    text: str  # what is written, for messages: ``CELERY_TASK_IGNORE_RESULT = True``
    beside: str  # what it is written beside: ``CELERY_RESULT_BACKEND``, ``Celery(backend=...)``
    inserts: List[Tuple[int, Optional[int], str]]  # (line, column, text); column None: a new line after ``line``

    def apply(self, source: str) -> str:
        lines = _LINES.split(source)
        if lines[-1] == "":
            lines.pop()
        for line, column, text in sorted(self.inserts, key=lambda i: (i[0], i[1] is not None, i[1] or 0), reverse=True):
            current = lines[line - 1]
            if column is None:
                body = current.rstrip("\r\n")
                newline = current[len(body):] or _newline(lines)
                lines[line - 1] = body + newline
                lines.insert(line, text + newline)
            else:
                lines[line - 1] = current[:column] + text + current[column:]
        return "".join(lines)

    def moved(self, line: int) -> int:
        """Where a line of the original file is after the edit (decorators are never on an edited line)."""
        return line + sum(1 for at, column, _ in self.inserts if column is None and at < line)


def ignore_key(backend_key: str, namespace) -> str:
    """The global-ignore setting spelled like ``backend_key`` (celery/app/defaults.py: ``result_backend`` is
    ``CELERY_RESULT_BACKEND`` in the old uppercase names, whose ``task_ignore_result`` is
    ``CELERY_IGNORE_RESULT``; with ``namespace="CELERY"`` every new name is upper-cased and prefixed instead)."""
    if backend_key == "result_backend":
        return "task_ignore_result"
    if namespace is NOT_KNOWN:
        raise Unplaceable(f"{backend_key} is read through a settings namespace the project does not show "
                          "(no config_from_object() call)")
    if namespace is None and backend_key == "CELERY_RESULT_BACKEND":
        return "CELERY_IGNORE_RESULT"
    if namespace is not None and backend_key == f"{namespace}_RESULT_BACKEND":
        return f"{namespace}_TASK_IGNORE_RESULT"
    raise Unplaceable(f"no global-ignore setting matches {backend_key} under namespace {namespace!r}")


def place(source: bytes, path: str, line: int, namespace) -> Placement:
    """The edit that writes the global flag beside the backend setting the analysis found at ``path:line``."""
    return _Placer(source, path, line, namespace).placement()


class _Placer:
    """One backend setting's line, and the forms the flag can be written in there, tried in order."""

    def __init__(self, source: bytes, path: str, line: int, namespace):
        import libcst as cst
        from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

        self.path, self.line, self.namespace = path, line, namespace
        self.wrapper = MetadataWrapper(cst.parse_module(source))
        self.positions = self.wrapper.resolve(PositionProvider)
        self.parents = self.wrapper.resolve(ParentNodeProvider)
        self.text = source.decode(self.wrapper.module.encoding)
        self.here = [n for n, p in self.positions.items() if p.start.line == line]

    def placement(self) -> Placement:
        for form in (self._assignment, self._keyword, self._dict_entry, self._app):
            for node in self.here:
                found = form(node)
                if found is not None:
                    return found
        raise Unplaceable(f"no backend setting found at {self.path}:{self.line}")

    @property
    def direct_namespace(self):
        """The namespace of keys given to ``app.conf`` itself (``conf.update(...)``, ``app.conf.KEY = ...``):
        no ``config_from_object`` in the project means none, so their own style decides."""
        return None if self.namespace is NOT_KNOWN else self.namespace

    def _assignment(self, node) -> Optional[Placement]:
        """``KEY = ...`` in a settings module or config class, ``app.conf.KEY = ...``."""
        import libcst as cst

        from ..analysis.walk import last_name  # here: it imports libcst, which a run without --fix never needs

        if not isinstance(node, cst.Assign):
            return None
        for target in (t.target for t in node.targets):
            key = last_name(target)
            if key in celery_api.BACKEND_SETTINGS:
                on_conf = isinstance(target, cst.Attribute)
                prefix = self.wrapper.module.code_for_node(target.value) + "." if on_conf else ""
                written = ignore_key(key, self.direct_namespace if on_conf else self.namespace)
                return self._new_line_after(node, f"{prefix}{written} = True", key)
        return None

    def _keyword(self, node) -> Optional[Placement]:
        """``conf.update(result_backend=...)``, ``dict(result_backend=...)``."""
        import libcst as cst

        if not isinstance(node, cst.Call):
            return None
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value in celery_api.BACKEND_SETTINGS:
                key = ignore_key(arg.keyword.value, self.direct_namespace)
                equal = _code(arg.equal.whitespace_before, "") + "=" + _code(arg.equal.whitespace_after, "")
                after = arg.comma.whitespace_after if isinstance(arg.comma, cst.Comma) else arg.whitespace_after_arg
                return _beside(self.path, self.line, self.text, self.positions, arg, after, f"{key}{equal}True",
                               arg.keyword.value)
        return None

    def _dict_entry(self, node) -> Optional[Placement]:
        """``{"result_backend": ...}``."""
        import libcst as cst

        if not isinstance(node, cst.DictElement) or not isinstance(node.key, cst.SimpleString):
            return None
        name = node.key.evaluated_value
        if name not in celery_api.BACKEND_SETTINGS:
            return None
        container = self.parents[node]
        after = node.comma.whitespace_after if isinstance(node.comma, cst.Comma) else None
        if node is container.elements[-1] and not isinstance(after, cst.ParenthesizedWhitespace):
            after = container.rbrace.whitespace_before  # a dict keeps the line break before ``}`` there
        quote = node.key.value.lstrip("rRbBuUfF")[0]
        colon = _code(node.whitespace_before_colon, "") + ":" + _code(node.whitespace_after_colon, " ")
        item = f"{quote}{ignore_key(name, self.namespace)}{quote}{colon}True"
        return _beside(self.path, self.line, self.text, self.positions, node, after, item, name)

    def _app(self, node) -> Optional[Placement]:
        """``app = Celery(..., backend=...)``: ``app.conf.task_ignore_result = True`` after it."""
        import libcst as cst

        from ..analysis.walk import last_name

        if not isinstance(node, cst.Call):
            return None
        func = node.func.value if isinstance(node.func, cst.Subscript) else node.func  # ``Celery[DjangoTask](...)``
        if last_name(func) != "Celery":
            return None
        assign = self.parents.get(node)
        targets = assign.targets if isinstance(assign, cst.Assign) else []
        if len(targets) != 1 or not isinstance(targets[0].target, cst.Name):
            raise Unplaceable(f"the app made at {self.path}:{self.line} is not assigned to a name")
        app = assign.targets[0].target.value
        return self._new_line_after(assign, f"{app}.conf.task_ignore_result = True", "Celery(backend=...)")

    def _statement_of(self, node):
        import libcst as cst

        while node is not None and not isinstance(node, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            node = self.parents.get(node)
        if not isinstance(node, cst.SimpleStatementLine):
            raise Unplaceable(f"the backend is set on the same line as a block header at {self.path}:{self.line}")
        return node

    def _new_line_after(self, node, new_text: str, beside: str) -> Placement:
        statement = self._statement_of(node)
        start, end = self.positions[statement].start, self.positions[statement].end
        indent = _line(self.text, start.line)[:start.column]
        return Placement(self.path, self.line, new_text, beside, [(end.line, None, indent + new_text)])


def _beside(path: str, line: int, text: str, positions, element, after, item: str, beside: str) -> Placement:
    """``item`` right after the argument or dict entry ``element``, in the layout the call or dict uses: on a line
    of its own (with a comma, or none if the last entry has none) or after ``, `` on the same line."""
    import libcst as cst

    value_end = positions[element.value].end
    if not isinstance(after, cst.ParenthesizedWhitespace):  # one line: ``f(a, result_backend=x, b)``
        return Placement(path, line, item, beside, [(value_end.line, value_end.column, ", " + item)])
    if isinstance(element.comma, cst.Comma) and isinstance(element.comma.whitespace_before, cst.ParenthesizedWhitespace):
        raise Unplaceable(f"an unusual layout at {path}:{line} (a comma on a line of its own)")
    first = _line(text, positions[element].start.line)
    indent = first[:len(first) - len(first.lstrip(" \t"))]
    if isinstance(element.comma, cst.Comma):
        return Placement(path, line, item, beside, [(value_end.line, None, f"{indent}{item},")])
    comma = (value_end.line, value_end.column, ",")  # the last entry had none: it gets one, the new one none
    return Placement(path, line, item, beside, [comma, (value_end.line, None, indent + item)])


def _line(text: str, number: int) -> str:
    return _LINES.split(text)[number - 1]


def _newline(lines: List[str]) -> str:
    for line in lines:
        body = line.rstrip("\r\n")
        if len(body) < len(line):
            return line[len(body):]
    return "\n"


def _code(whitespace, default: str) -> str:
    value = getattr(whitespace, "value", None)
    return value if isinstance(value, str) else default
