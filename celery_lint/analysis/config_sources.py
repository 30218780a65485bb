"""Where an app loads its configuration from, when it is not written as settings in this module:
``app.config_from_object(x)``, ``Celery(config_source=x)``, ``app.conf.update(x)``; and which settings module Django loads by default (``DJANGO_SETTINGS_MODULE``).

The summary records the source; the project decides whether it can read it (a module or object of its own, or
Django's settings) or not (a module outside the project, ``pyfile_to_module(...)``, a mapping built at run time),
in which case a result backend may be configured there (``settings.Backend.UNKNOWN``).
"""
from __future__ import annotations

from typing import Callable, Optional

import libcst as cst

from .walk import last_name

APP_CONFIG_KEYWORD = "config_source"  # ``Celery("x", config_source=Config)``
DJANGO_SETTINGS_MODULE = "DJANGO_SETTINGS_MODULE"


def loaded_config(node: cst.Call, name: Optional[str], is_app_class: bool,
                  ref_of: Callable[[cst.BaseExpression], Optional[str]]) -> Optional[dict]:
    """The config source this call loads, as a ``Setting.LOADED_CONFIG`` value, or None."""
    django = _django_settings_default(node, name)
    if django is not None:
        return {"django_settings": django}
    source = _source(node, name, is_app_class)
    if source is None:
        return None
    if isinstance(source, str):  # ``**options``: whatever the mapping holds
        return {"code": source}
    if isinstance(source, (cst.SimpleString, cst.ConcatenatedString)):
        value = source.evaluated_value
        return {"module": value} if isinstance(value, str) else {"code": _code(source)}
    if isinstance(source, (cst.Dict, cst.DictComp)) or _is_dict_call(source):
        return None  # its literal keys are read as settings where it is written
    if isinstance(source, (cst.Name, cst.Attribute)):
        ref = ref_of(source)
        if ref is not None:
            return {"ref": ref}
    return {"code": _code(source)}


def _django_settings_default(node: cst.Call, name: Optional[str]) -> Optional[str]:
    """``os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")``: the settings Django loads unless
    the environment names others."""
    if name != "setdefault" or len(node.args) != 2:
        return None
    key, value = (arg.value for arg in node.args)
    if not all(isinstance(v, cst.SimpleString) for v in (key, value)) or key.evaluated_value != DJANGO_SETTINGS_MODULE:
        return None
    return value.evaluated_value if isinstance(value.evaluated_value, str) else None


def _source(node: cst.Call, name: Optional[str], is_app_class: bool):
    """The expression holding the config (or ``"**name"`` for a spread mapping), or None."""
    if name == "config_from_object":
        return _argument(node, "obj")
    if is_app_class:
        return _keyword(node, APP_CONFIG_KEYWORD)
    if name == "update" and isinstance(node.func, cst.Attribute) and last_name(node.func.value) == "conf":
        for arg in node.args:
            if arg.star == "**":
                return f"**{_code(arg.value)}"
            if arg.keyword is None:
                return arg.value
    return None


def _argument(node: cst.Call, keyword: str):
    positional = [arg.value for arg in node.args if arg.keyword is None and not arg.star]
    return positional[0] if positional else _keyword(node, keyword)


def _keyword(node: cst.Call, keyword: str):
    return next((arg.value for arg in node.args if arg.keyword is not None and arg.keyword.value == keyword), None)


def _is_dict_call(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "dict" \
        and all(arg.keyword is not None for arg in node.args)


def _code(node: cst.CSTNode) -> str:
    return " ".join(cst.Module(body=[]).code_for_node(node).split())
