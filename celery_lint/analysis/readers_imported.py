"""Celery's reads by id bound in a module of the project and imported from there: ``compat.py`` says ``from
celery.result import AsyncResult as Result`` (or ``fetch = app.AsyncResult``), a view says ``from proj.compat
import Result`` and calls ``Result(task_id).get()``.

A file's summary knows only its own imports, so that call is not seen as a read by id there (``ReadsById.
renamed_read_by_id`` sees ``celery.`` names and the module's own aliases). Linked here instead: the import of such
a name counts as a read by id (the project reads results by id), which is what the call would say; a module
importing it and never calling it costs only precision. The fast path reads every file that imports such a name
(``reader_names`` are names of interest), as the plain path does.
"""
from __future__ import annotations

from typing import Iterable, Iterator, List, Tuple

from ..celery_api import READ_BY_ID
from .facts import ModuleSummary
from .symbols import Symbol, Symbols


def _bound_readers(summary: ModuleSummary, symbols: Symbols) -> Iterator[Tuple[str, str]]:
    """(name, what Celery calls it) for each name ``summary``'s module binds to a read by id of Celery's."""
    names = [name for name in summary.imports if not name.startswith("*")] + [alias.name for alias in summary.aliases]
    for name in names:
        reader = reader_of(symbols, f"{summary.module}.{name}")
        if reader is not None:
            yield name, reader


def reader_of(symbols: Symbols, ref: str):
    """``celery.result.AsyncResult`` (or ``app.AsyncResult``) when ``ref`` is bound to it, else None."""
    kind, _summary, obj, tail = symbols.resolve(ref)
    if kind is Symbol.EXTERNAL and isinstance(obj, str) and obj.startswith("celery.") \
            and obj.rpartition(".")[2] in READ_BY_ID:
        return obj
    if len(tail) == 1 and tail[0] in READ_BY_ID and kind is Symbol.ALIAS and obj.called and obj.ref \
            and symbols.makes_app(obj.ref):  # ``fetch = app.AsyncResult`` with ``app = Celery(...)``
        return f"app.{tail[0]}"
    return None


def reader_names(summaries: Iterable[ModuleSummary], symbols: Symbols) -> List[str]:
    """The names modules of the project bind Celery's reads by id to (another file may import them), but Celery's
    own (``AsyncResult``: a Celery token, which has every file naming it read anyway)."""
    return sorted({name for summary in summaries for name, _ in _bound_readers(summary, symbols)
                   if name not in READ_BY_ID})


def reads_through_imports(summaries: Iterable[ModuleSummary], symbols: Symbols) -> List[str]:
    """Where a module imports, from a module of the project, a name bound to one of Celery's reads by id."""
    found = []
    for summary in summaries:
        for name, ref in summary.imports.items():
            if name.startswith("*") or ref.startswith("celery."):
                continue  # (Celery's own: ``renamed_read_by_id`` sees its calls)
            reader = reader_of(symbols, ref)
            if reader is not None:
                found.append(f"{summary.path} (imports {reader} from {ref.rpartition('.')[0]} as {name})")
    return found
