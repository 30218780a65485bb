"""A setting's value as Celery sees it when the code reads it from the environment: the default the code shows,
"unless the environment sets X".

Readers: ``os.environ.get("X", d)`` / ``os.getenv`` (the raw string), django-environ (``env.bool/str/int("X",
default=d)``, ``env("X", default=d, cast=bool)``, and ``env("X")`` with the default declared in the schema
``environ.Env(X=(bool, True))`` or ``FileAwareEnv``), python-decouple's ``config("X", default=d, cast=bool)``.
Casts around a reader apply to its default: ``bool(int(...))``, ``ast.literal_eval(...)``, ``strtobool(...)``.
A reader without a default (``env("X")`` with no schema entry, ``config("X")``) fails when X is unset, so X always
sets the value: it is not a default, and the value is unknown (``DYNAMIC``).
"""
from __future__ import annotations

import ast
from typing import Dict, Optional, Tuple

import libcst as cst

from ..types import DYNAMIC
from .walk import last_name

ENV_CLASSES = frozenset({"Env", "FileAwareEnv"})  # django-environ
ENV_RECEIVERS = frozenset({"env", "environ", "Env"})
RAW_READERS = frozenset({"get", "getenv"})  # os.environ.get / os.getenv
CAST_METHODS = frozenset({"bool", "str", "int", "float"})  # env.bool("X", default=...)
_MISSING = object()  # no default written: the environment must set it
# django-environ's and decouple's truthy spellings (both lower-case the string first)
TRUE_WORDS = frozenset({"true", "yes", "on", "ok", "1", "y", "t"})
FALSE_WORDS = frozenset({"false", "no", "off", "0", "n", "f", ""})

EnvSchema = Dict[str, Tuple[str, object]]  # variable -> (cast name, default) from ``environ.Env(X=(bool, True))``


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


def setting_value(node: Optional[cst.BaseExpression], schema: Optional[EnvSchema] = None):
    """A literal, or ``{"env": VAR, "default": value}`` for a value read from the environment with a default;
    ``default`` is what Celery would get when VAR is unset (cast where the code casts)."""
    value = literal(node)
    if value != DYNAMIC or not isinstance(node, cst.Call):
        return value
    read = environment_read(node, schema or {})
    if read is None or read[1] is _MISSING or read[1] == DYNAMIC:
        return DYNAMIC
    return {"env": read[0], "default": read[1]}


def env_schema(node: cst.BaseExpression) -> EnvSchema:
    """``environ.Env(X=(bool, True), Y=str)``: each variable's cast and default (only the literal ones)."""
    if not isinstance(node, cst.Call) or last_name(node.func) not in ENV_CLASSES:
        return {}
    schema = {}
    for arg in node.args:
        if arg.keyword is None:
            continue
        value = arg.value
        if isinstance(value, cst.Tuple) and len(value.elements) == 2:
            cast, default = (element.value for element in value.elements)
            schema[arg.keyword.value] = (last_name(cast) or "", literal(default))
    return schema


def environment_read(node: cst.Call, schema: EnvSchema) -> Optional[Tuple[str, object]]:
    """(VAR, default as Celery sees it) for a read of the environment, or None for any other call."""
    name = last_name(node.func)
    inner = _only_argument(node)
    if name in _CASTS and isinstance(inner, cst.Call):  # ``bool(int(os.environ.get("X", "0")))``
        read = environment_read(inner, schema)
        return None if read is None else (read[0], _cast(name, read[1]))
    variable, positional, keywords = _arguments(node)
    if variable is None:
        return None
    receiver = last_name(node.func.value) if isinstance(node.func, cst.Attribute) else None
    if name in RAW_READERS and receiver in ("environ", "os"):
        default = keywords.get("default", positional[1] if len(positional) > 1 else None)
        return variable, literal(default) if default is not None else None
    if name in CAST_METHODS and receiver in ENV_RECEIVERS:  # django-environ: env.bool("X", default=True)
        return variable, _cast(name, _default(positional, keywords, schema.get(variable)))
    if name in ("env", "config"):  # django-environ's env(...), python-decouple's config(...)
        cast = keywords.get("cast")
        declared = schema.get(variable) if name == "env" else None
        cast_name = last_name(cast) if cast is not None else (declared[0] if declared else "str")
        return variable, _cast(cast_name, _default(positional, keywords, declared))
    return None


def _only_argument(node: cst.Call) -> Optional[cst.BaseExpression]:
    return node.args[0].value if len(node.args) == 1 and node.args[0].keyword is None else None


def _arguments(node: cst.Call):
    positional = [arg.value for arg in node.args if arg.keyword is None and not arg.star]
    keywords = {arg.keyword.value: arg.value for arg in node.args if arg.keyword is not None}
    variable = literal(positional[0]) if positional else DYNAMIC
    if not isinstance(variable, str) or variable == DYNAMIC:
        return None, positional, keywords
    return variable, positional, keywords


def _default(positional, keywords, declared: Optional[Tuple[str, object]]):
    """The written default (keyword or second positional), else the schema's, else none at all."""
    default = keywords.get("default", positional[1] if len(positional) > 1 else None)
    if default is not None:
        return literal(default)
    return declared[1] if declared is not None else _MISSING


def _to_bool(value):
    if isinstance(value, str):
        lowered = value.strip().lower()
        return True if lowered in TRUE_WORDS else False if lowered in FALSE_WORDS else DYNAMIC
    return bool(value) if isinstance(value, (bool, int)) or value is None else DYNAMIC


def _to_int(value):
    try:
        return int(value) if isinstance(value, (str, int)) else DYNAMIC
    except ValueError:
        return DYNAMIC


def _literal_eval(value):
    try:
        return ast.literal_eval(value) if isinstance(value, str) else value
    except (ValueError, SyntaxError):
        return DYNAMIC


_CASTS = {"bool": _to_bool, "strtobool": _to_bool, "int": _to_int, "literal_eval": _literal_eval,
          "str": lambda value: value}


def _cast(name: Optional[str], value):
    """``value`` as the cast ``name`` turns it (an unknown cast: DYNAMIC); the missing default stays missing."""
    if value is _MISSING or value == DYNAMIC:
        return value
    cast = _CASTS.get(name or "")
    return cast(value) if cast is not None else DYNAMIC
