"""What a file spells literally: literal values, settings read from the environment, noqa comments, and the
small syntactic questions every part of the summary asks.
"""
from __future__ import annotations

import re
from typing import List, Optional

import libcst as cst

from .. import celery_api
from ..celery_api import Role
from ..types import DYNAMIC, OutcomeKind
from .env_values import literal  # noqa: F401  (re-exported: literals are read here)
from .flow import call_name


DISCARDED, ID_TAKEN, ESCAPES, READ = OutcomeKind


LITERALS = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString, cst.Integer, cst.Float)  # hold no task


NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)


def noqa_codes(lines: List[bytes], line_numbers) -> List[str]:
    codes: List[str] = []
    for number in line_numbers:
        if not 0 < number <= len(lines):
            continue
        match = NOQA.search(lines[number - 1].decode("utf-8", "replace"))
        if match is None:
            continue
        if match.group("codes") is None:
            return ["*"]
        codes.extend(code.upper() for code in re.split(r"[,\s]+", match.group("codes")) if code)
    return codes


OBJECT_IMPORTS = frozenset({"import_string", "symbol_by_name"})  # (import_module gives a module, not an object)
MODULE_IMPORTS = frozenset({"import_module", "__import__"})


def imported_module(node: cst.CSTNode) -> Optional[str]:
    """``import_module("proj.tasks")``, ``__import__("proj.tasks", fromlist=["send"])``: the module it gives (for
    ``__import__`` without a ``fromlist``, the top package), or None: not such a call, or a path not literal and
    absolute, or a ``fromlist`` that is not a literal."""
    if not isinstance(node, cst.Call) or call_name(node) not in MODULE_IMPORTS:
        return None
    path = first_literal(node)
    if not path or not all(part.isidentifier() for part in path.split(".")):
        return None
    if call_name(node) == "import_module":
        return path
    fromlist = next((arg.value for arg in node.args if arg.keyword is not None and arg.keyword.value == "fromlist"),
                    node.args[3].value if len(node.args) > 3 and node.args[3].keyword is None else None)
    if fromlist is None or isinstance(fromlist, (cst.List, cst.Tuple)) and not fromlist.elements:
        return path.split(".")[0]
    return path if isinstance(fromlist, (cst.List, cst.Tuple)) else None


def imported_by_path(func: cst.BaseExpression) -> Optional[str]:
    """``import_string("proj.service.start")``, ``resolve_name("proj.service:start")``: the object a run-time import
    names by a literal path (a call of it calls that object), or None."""
    if not (isinstance(func, cst.Call) and call_name(func) in celery_api.RUN_TIME_IMPORTS
            and call_name(func) not in MODULE_IMPORTS):
        return None
    path = first_literal(func)
    path = path.replace(":", ".") if isinstance(path, str) else ""
    return path if path and all(part.isidentifier() for part in path.split(".")) else None


def imported_name(call: cst.Call, imports=OBJECT_IMPORTS) -> Optional[str]:
    """``import_string(f"{app.name}.urls.urlpatterns")``: the object's name, when the path ends in a literal one
    (an f-string's or a sum's last part); with ``imports=MODULE_IMPORTS``, ``import_module(app + ".signals")``:
    the module's last name."""
    if call_name(call) not in imports or not call.args:
        return None
    path = call.args[0].value
    if isinstance(path, cst.FormattedString) and path.parts and isinstance(path.parts[-1], cst.FormattedStringText):
        tail = path.parts[-1].value
    elif isinstance(path, cst.BinaryOperation) and isinstance(path.operator, cst.Add):
        tail = literal(path.right)
    else:
        return None
    if not isinstance(tail, str) or tail == DYNAMIC or "." not in tail.replace(":", "."):
        return None
    name = tail.replace(":", ".").rpartition(".")[2]
    return name if name.isidentifier() else None


def is_getattr(node) -> bool:
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "getattr"


def first_literal(call: cst.Call) -> Optional[str]:
    """The string literal given as the first positional argument, or None."""
    first = literal(call.args[0].value) if call.args and call.args[0].keyword is None else DYNAMIC
    return first if isinstance(first, str) and first != DYNAMIC else None


def first_is_string(call: cst.Call) -> bool:
    first = call.args[0] if call.args else None
    return first is not None and first.keyword is None and isinstance(first.value, (cst.SimpleString, cst.ConcatenatedString))


def unsubscripted(node: cst.BaseExpression) -> cst.BaseExpression:
    """``Celery[DjangoTask]`` → ``Celery``: a subscripted generic class is still the class."""
    while isinstance(node, cst.Subscript):
        node = node.value
    return node


def code_of(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def registry_key(node: cst.CSTNode) -> Optional[str]:
    """``app.tasks["proj.send"]`` / ``app.tasks.get("proj.send")``: the registered name looked up (DYNAMIC when
    not a literal); None when ``node`` is no lookup in the task registry."""
    if isinstance(node, cst.Subscript):
        registry = node.value
        index = node.slice[0].slice if len(node.slice) == 1 else None
        key = literal(index.value) if isinstance(index, cst.Index) else DYNAMIC
    elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "get" \
            and node.args and node.args[0].keyword is None:
        registry, key = node.func.value, literal(node.args[0].value)
    else:
        return None
    if not isinstance(registry, cst.Attribute) or registry.attr.value not in celery_api.names(Role.TASK_REGISTRY):
        return None
    return key if isinstance(key, str) else DYNAMIC


def imported_literally(call: cst.Call) -> Optional[str]:
    """``import_module("proj.tasks")``, ``import_string("proj.tasks.send")``: the dotted name imported."""
    func = call.func
    name = func.value if isinstance(func, cst.Name) else func.attr.value if isinstance(func, cst.Attribute) else None
    first = call.args[0] if len(call.args) == 1 else None
    if name not in celery_api.RUN_TIME_IMPORTS or first is None or first.keyword is not None \
            or not isinstance(first.value, cst.SimpleString):
        return None
    value = first.value.evaluated_value
    return value.replace(":", ".") if isinstance(value, str) and value else None
