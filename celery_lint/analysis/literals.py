"""What a file spells literally: literal values, settings read from the environment, noqa comments, and the
small syntactic questions every part of the summary asks.
"""
from __future__ import annotations

import re
from typing import List, Optional

import libcst as cst

from ..types import DYNAMIC, OutcomeKind
from .flow import call_name
from .walk import last_name

DISCARDED, ID_TAKEN, ESCAPES, READ = OutcomeKind


LITERALS = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString, cst.Integer, cst.Float)  # hold no task


NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)


def literal(node: Optional[cst.BaseExpression]):
    """The value of a literal keyword argument, or DYNAMIC."""
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else DYNAMIC
    if isinstance(node, cst.Integer):
        return int(node.value, 0) if node.value.isdigit() else DYNAMIC
    return DYNAMIC


def setting_value(node: Optional[cst.BaseExpression]):
    """A setting's value: a literal, or ``{"env": VAR, "default": value}`` for a value read from the environment
    with a default (``os.environ.get("X", "True")``, ``env.bool("X", default=True)``, decouple's
    ``config("X", default=True, cast=bool)``): the default is what the code says, unless the environment says
    otherwise. ``default`` is what Celery would get: the raw default, or cast to bool where the call casts."""
    value = literal(node)
    if value != DYNAMIC or not isinstance(node, cst.Call):
        return value
    name, receiver = last_name(node.func), last_name(node.func.value) if isinstance(node.func, cst.Attribute) else None
    positional = [arg.value for arg in node.args if arg.keyword is None and not arg.star]
    keywords = {arg.keyword.value: arg.value for arg in node.args if arg.keyword is not None}
    variable = literal(positional[0]) if positional else DYNAMIC
    if not isinstance(variable, str) or variable == DYNAMIC:
        return DYNAMIC
    if name in ("get", "getenv") and receiver in ("environ", "os"):  # os.environ.get / os.getenv: the raw string
        default = keywords.get("default", positional[1] if len(positional) > 1 else None)
        cast = False
    elif name == "bool" and receiver in ("env", "environ", "Env"):  # django-environ
        default, cast = keywords.get("default"), True
    elif name in ("config", "env"):  # python-decouple's config(...), django-environ's env(...)
        default = keywords.get("default")
        cast = isinstance(keywords.get("cast"), cst.Name) and keywords["cast"].value == "bool"
    else:
        return DYNAMIC
    found = literal(default) if default is not None else None
    if found == DYNAMIC:
        return DYNAMIC
    if cast and isinstance(found, str):
        found = found.strip().lower() in ("true", "yes", "on", "1", "y", "t")
    return {"env": variable, "default": found}


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


def imported_name(call: cst.Call) -> Optional[str]:
    """``import_string(f"{app.name}.urls.urlpatterns")``: the object's name, when the path ends in a literal one."""
    if call_name(call) not in OBJECT_IMPORTS or not call.args:
        return None
    path = call.args[0].value
    if not isinstance(path, cst.FormattedString) or not path.parts:
        return None
    last = path.parts[-1]
    if not isinstance(last, cst.FormattedStringText) or "." not in last.value.replace(":", "."):
        return None
    name = last.value.replace(":", ".").rpartition(".")[2]
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
