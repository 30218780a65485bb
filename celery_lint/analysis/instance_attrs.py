"""What ``self.x`` holds when a method sets it, so that ``self.x.delay()`` in another method names its tasks.

- A constructor's parameter kept on the instance: ``def __init__(self, task, *args): self._task = task``, then
  ``self._task.apply_async(...)`` in a method (invenio's ``TaskOp(fetch_file, ...)``, a unit of work run after
  commit). What every ``TaskOp(...)`` passes for ``task`` is what ``self._task`` holds
  (``reach.ClassAttributes.values`` links them). Noted only where that is all it can hold, as far as one file can
  tell: a statement of ``__init__``'s own block (not under an ``if``), the parameter not bound again in it, the
  attribute set nowhere else in the class, and a carrier of an enqueue in the class's own methods. The project adds
  what one file cannot tell: every call of the class is seen (it is not handed on as a value, nor bound to a local
  and called through it), it has no subclass, and no method of its file making an instance from inside
  (``cls(...)``) is called anywhere.
- Names: ``self._job = deliver_hook`` in ``init_app`` (superset's async query manager, a Flask extension), also
  ``self._job: Any = None`` in ``__init__``: the tasks named, as a class body's ``_job = deliver_hook`` would.
- Anything else (``self.x = make()``, ``self.x += ...``, a tuple of targets): an instance sets it, to anything
  (``ClassInfo.instance_attrs``).
"""
from __future__ import annotations

import re
from typing import Optional

import libcst as cst

from .carriers import SELF
from .facts import ClassInfo

_BUILDS = re.compile(rb"\bcls\s*\(|\btype\s*\(\s*self\s*\)\s*\(|\b__class__\s*\(")


class InstanceAttributes:
    """The ``_Summarizer``'s handlers for attributes its methods set on ``self`` (a mixin: it shares the
    summarizer's state)."""

    def attributes_set_on_self(self, node) -> None:
        """``self.task = x`` (also annotated, augmented, or in a tuple of targets) in a method: a task the method
        makes there, a parameter ``__init__`` keeps, the names ``x`` may be, or else anything."""
        owner = self.method_owner()
        if owner is None:
            return
        targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
        direct = len(targets) == 1 and not isinstance(node, cst.AugAssign) and node.value is not None
        for target in unpacked(targets):
            if not (isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) and target.value.value in SELF):
                continue
            attr = target.attr.value
            if not (direct and target is targets[0]):
                owner.instance_attrs.append(attr)
            elif self.task_made_here(node.value):
                owner.made_attrs.append(attr)
            elif not self.kept_from_init(node, target, owner):  # its names, if it carries a task (``settle``)
                self.__dict__.setdefault("_set_on_self", []).append((owner, attr, node.value))

    def _named(self, value: cst.BaseExpression, attr: str, owner: ClassInfo) -> bool:
        """``self.x = t`` (``a if c else b``, ``None``...): the names it may be, as a class body's would."""
        names = ["None"] if isinstance(value, cst.Name) and value.value == "None" else self.held.names(value)
        if names is None or not all(isinstance(name, str) for name in names):
            return False
        owner.instance_held.setdefault(attr, []).extend(n for n in names if n not in owner.instance_held[attr])
        return True

    def kept_from_init(self, node, target: cst.Attribute, owner: ClassInfo) -> bool:
        """``self.attr = param`` in ``__init__``: noted in ``owner.kept_params`` (True), or False."""
        if not isinstance(node.value, cst.Name):
            return False
        init = self._init_around(node)
        position = _position(init, node.value.value) if init is not None else None
        if position is None or self._rebound(node.value):
            return False
        attr = target.attr.value
        if attr in owner.kept_params:  # kept twice: one of two parameters, or set twice
            del owner.kept_params[attr]
            return False
        owner.kept_params[attr] = [node.value.value, position[0]]
        return True

    def _init_around(self, node) -> Optional[cst.FunctionDef]:
        """The ``__init__`` whose own block (not a nested one) holds the statement ``node``."""
        line = self.parents.get(node)
        block = self.parents.get(line) if isinstance(line, cst.SimpleStatementLine) else None
        function = self.parents.get(block) if isinstance(block, cst.IndentedBlock) else None
        if isinstance(function, cst.FunctionDef) and function.name.value == "__init__" \
                and isinstance(self.parents.get(self.parents.get(function)), cst.ClassDef):
            return function
        return None

    def _rebound(self, mention: cst.Name) -> bool:
        others = self.walk.mentions(mention)
        return others is None or self.walk.hands_on_locals(mention) or any(
            self.flow.rebinds(other) and not isinstance(self.parents.get(other), cst.Param) for other in others)

    def settle_instance_attrs(self) -> None:
        """Names and kept parameters only for the attributes the class's own methods enqueue or sign through
        (``self._task.delay()``: the names cost a lookup each); the others, and a parameter also set another way,
        are attributes instances set, to anything, as before."""
        carried = {use.class_attr for use in self.summary.uses if use.class_attr}
        for owner, attr, value in self.__dict__.pop("_set_on_self", ()):
            if f"{self.summary.module}.{owner.qualname}:{attr}" not in carried or not self._named(value, attr, owner):
                owner.instance_attrs.append(attr)
        # ``cls(...)`` in a classmethod, ``type(self)(...)``: instances made from inside, with whatever that method was
        # given. Read off the file's own text (the speed layer may have cut the method), for any class of the file.
        builders = _builders(self.lines) if any(cls.kept_params for cls in self.summary.classes) else []
        for cls in self.summary.classes:
            cls.builders = builders if cls.kept_params else []
            for attr in list(cls.kept_params):
                if attr in cls.instance_attrs or f"{self.summary.module}.{cls.qualname}:{attr}" not in carried:
                    del cls.kept_params[attr]
                    if attr not in cls.instance_attrs:
                        cls.instance_attrs.append(attr)


def _position(function: cst.FunctionDef, name: str) -> Optional[tuple]:
    """(index after ``self``, or None for keyword-only,) of the parameter ``name``; None when it is none of them
    (``*args``, ``**kwargs``, a name from outside)."""
    positional = [*function.params.posonly_params, *function.params.params][1:]
    for index, param in enumerate(positional):
        if param.name.value == name:
            return (index,)
    if any(param.name.value == name for param in function.params.kwonly_params):
        return (None,)
    return None


_DEF = re.compile(rb"^([ \t]*)(?:async[ \t]+)?def[ \t]+(\w+)")


def _builders(lines) -> list:
    """The functions around each line making an instance from inside (every ``def`` enclosing it, read by
    indentation): called anywhere, one may make it with what it was given. "?" for a line with no method around
    it (module level, or a module-level function, whose plain calls are not recorded as mentions)."""
    found = []
    for number, line in enumerate(lines):
        if not _BUILDS.search(line):
            continue
        indent = len(line) - len(line.lstrip())
        chain = []
        for above in reversed(lines[:number]):
            match = _DEF.match(above)
            if match and len(match.group(1)) < indent:
                chain.append(match.group(2).decode())
                indent = len(match.group(1))
                if indent == 0:
                    break
        found += [name for name in (chain if chain and indent > 0 else ["?"]) if name not in found]
    return found


def unpacked(targets: list) -> list:
    """Every target, tuples and lists of targets opened (a starred one's ``.value`` is its target)."""
    found, pending = [], list(targets)
    while pending:
        target = pending.pop()
        if isinstance(target, (cst.Tuple, cst.List)):
            pending.extend(element.value for element in target.elements)
        else:
            found.append(target)
    return found
