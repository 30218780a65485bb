"""The options a call passes: its keywords, with those of a dict it spreads (``**opts``, ``opts = {...}`` in the
same function) or hands as a signature's ``options={...}``, where a preset ``task_id`` or a ``link_error`` may hide;
and whether it spreads a dict whose keys cannot all be read (``**options`` a wrapper forwards, ``dict(task_id=x)``,
``opts["task_id"] = x``): any option may hide there.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Optional

import libcst as cst

from ..types import DYNAMIC, IGNORE_AT_RUN_TIME, OutcomeKind
from .env_values import literal
from .facts import Outcome
from .walk import last_name


def options_given(call: cst.Call, mentions: Callable, parents: Dict) -> Dict[str, cst.BaseExpression]:
    """The keywords of a call, with those of a dict it spreads (``**opts``, ``opts = {...}`` in this function)
    or hands as a signature's ``options={...}``."""
    given: Dict[str, cst.BaseExpression] = {}
    for arg in call.args:
        if arg.keyword is not None:
            given[arg.keyword.value] = arg.value
        if arg.star == "**" or (arg.keyword is not None and arg.keyword.value == "options"):
            for table in _dicts_held(arg.value, mentions, parents):
                given.update(_literal_keys(table))
    return given


def _literal_keys(table: cst.Dict) -> Dict[str, cst.BaseExpression]:
    """A dict literal's values by their string keys."""
    return {key: element.value for element in table.elements if isinstance(element, cst.DictElement)
            for key in [literal(element.key)] if isinstance(key, str)}


def _dicts_held(node: cst.BaseExpression, mentions: Callable, parents: Dict) -> List[cst.Dict]:
    if isinstance(node, cst.Dict):
        return [node]
    found = []
    for mention in (mentions(node) or ()) if isinstance(node, cst.Name) else ():
        target = parents.get(mention)
        assign = parents.get(target) if isinstance(target, cst.AssignTarget) else None
        if isinstance(assign, cst.Assign) and isinstance(assign.value, cst.Dict):
            found.append(assign.value)
    return found


def spread_unread(call: cst.Call, mentions: Callable, parents: Dict) -> Optional[cst.BaseExpression]:
    """The first ``**x`` (or ``options=x``) of ``call`` whose keys cannot all be read: ``x`` not a dict literal, nor a
    local only ever bound to dict literals and spread (a parameter, ``dict(...)``, a dict filled by ``x[k] = v`` or
    ``x.update(...)``, a helper's return); None when every one can."""
    if _through_super(call):
        return None  # a Task class's ``apply_async`` override handing its caller's options on: read where it is called
    for arg in call.args:
        spread = arg.star == "**" or (arg.keyword is not None and arg.keyword.value == "options")
        if spread and not _only_literal_dicts(arg.value, call, mentions, parents):
            return arg.value
    return None


def _only_literal_dicts(node: cst.BaseExpression, call: cst.Call, mentions: Callable, parents: Dict) -> bool:
    """Is ``node`` a dict literal, or a local bound only to dict literals, otherwise only spread (``**x``, which
    reads it) or handed to ``call`` itself? (Handed to any other call, that call may fill it.)"""
    if isinstance(node, cst.Dict):
        return True
    others = mentions(node) if isinstance(node, cst.Name) else None
    if not others:
        return False  # a parameter (its callers' keywords), a global, an attribute, a call
    for mention in others:
        target = parents.get(mention)
        assign = parents.get(target) if isinstance(target, cst.AssignTarget) else None
        bound = isinstance(assign, cst.Assign) and len(assign.targets) == 1 and isinstance(assign.value, cst.Dict)
        spread = isinstance(target, cst.Arg) and (target.star == "**" or parents.get(target) is call)
        if not (bound or spread):
            return False
    return True


def chosen_id(call: cst.Call, outcome: Outcome, mentions: Callable, parents: Dict, line_of: Callable) -> Outcome:
    """``apply_async(task_id=job.pk)`` / ``.set(task_id=x)`` / ``**{"task_id": x}``: the caller knows the id before
    the send, as good as taking ``.id`` from the result (a project that reads results by id may read this one); also
    where options come from a dict whose keys cannot all be read (``spread_unread``)."""
    unread = spread_unread(call, mentions, parents)
    if "task_id" in options_given(call, mentions, parents) or _id_in_place(call):
        chosen = Outcome(OutcomeKind.ID_TAKEN, "its id is chosen by the caller (task_id=)", line_of(call))
    elif unread is not None:  # ``def schedule(**options): t.apply_async(**options)``, ``dict(task_id=x)``
        chosen = Outcome(OutcomeKind.ID_TAKEN, f"its options come from {_code(unread)}, which may choose its id "
                         "(task_id=)", line_of(call))
    else:
        return outcome
    return chosen if chosen.stronger_than(outcome) else outcome


# The position of ``task_id`` among a send's parameters: ``apply_async(args, kwargs, task_id, ...)`` (as
# ``apply_async_on_commit`` passes them on), ``send_task(name, args, kwargs, countdown, eta, task_id, ...)``.
_ID_POSITION = {"apply_async": 2, "apply_async_on_commit": 2, "send_task": 5}


def _id_in_place(call: cst.Call) -> bool:
    """Is the id given in its place, or may it be (``*args`` spread into the call)?"""
    position = _ID_POSITION.get(last_name(call.func))
    if position is None or _through_super(call):
        return False
    positional = [arg for arg in call.args if arg.keyword is None and arg.star != "**"]
    return len(positional) > position or any(arg.star == "*" for arg in positional)


def _through_super(call: cst.Call) -> bool:
    """``super().apply_async(*args, **kwargs)``: a Task class's override handing its caller's arguments on."""
    func = call.func
    return isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call) \
        and isinstance(func.value.func, cst.Name) and func.value.func.value == "super"


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def ignore_given(call: cst.Call, mentions: Callable, parents: Dict, module_tables: Dict[str, list]):
    """A call's ``ignore_result=``: its literal value, IGNORE_AT_RUN_TIME for an expression; also given in a dict
    spread in whose keys can be read (``opts = {...}`` in this function, ``**OPTIONS`` a module-level literal);
    DYNAMIC where a spread dict's keys cannot be read; None where it is not given."""
    given = options_given(call, mentions, parents)
    for arg in call.args:
        if arg.star == "**" and isinstance(arg.value, cst.Name) and mentions(arg.value) is None:
            for table in module_tables.get(arg.value.value, ()):
                given.update(_literal_keys(table) if isinstance(table, cst.Dict) else {})
    if "ignore_result" in given:
        value = literal(given["ignore_result"])  # (``ignore_result=KEEP``: it may be False)
        return value if isinstance(value, bool) else IGNORE_AT_RUN_TIME
    return DYNAMIC if any(arg.star == "**" for arg in call.args) else None
