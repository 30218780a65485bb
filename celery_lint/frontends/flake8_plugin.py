"""flake8 plugin: ``flake8 --select CEL`` reports what ``celery-lint`` reports for each file.

flake8 hands a plugin one file at a time, but the findings come from the whole-project analysis: the
first file of a project analyses it (warm runs read the on-disk cache), later files reuse that report.
An unsaved editor buffer (``flake8 --stdin-display-name path -``) replaces that file's text on disk.

flake8 loads and runs every installed plugin whatever ``--select`` says, and only filters what they report: when
none of our codes is selected the plugin does nothing (no analysis, no cache), and importing it loads none of
celery-lint's analysis (``flake8 --select E501`` pays almost nothing for having it installed).
"""
from __future__ import annotations

import hashlib
import io
import sys
import tokenize
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Iterator, Optional, Tuple

from flake8.exceptions import ExecutionError

from .. import __version__

if TYPE_CHECKING:  # imported when the plugin runs (see the module's docstring)
    from ..config import Config
    from ..types import Report

CODES = ("CEL000", "CEL001", "CEL002", "CEL003", "CEL004")  # rules.KNOWN_CODES, without importing the rules (a test holds them equal)


class CeleryLintPlugin:
    name = "celery-lint"
    version = __version__

    no_cache = False
    cache_dir: Optional[Path] = None
    cache_dir_typed = False
    task_decorators: Tuple[str, ...] = ()
    selected = True  # is any of our codes selected (flake8's own decision: options, config files, defaults)?
    # Memos for one flake8 run: a project is analysed once, not once per file.
    _configs: Dict[Path, "Config"] = {}
    _reports: Dict[tuple, "Report"] = {}  # (root,) or, with an unsaved buffer, (root, path, its hash)

    # flake8 only runs plugins that take ``tree``, ``logical_line`` or ``physical_line``: a tree plugin
    # runs once per file, and after the file parsed (else flake8 reports E999 and never calls us).
    def __init__(self, tree, filename: str, lines) -> None:
        self.filename = filename
        self.lines = lines

    @classmethod
    def add_options(cls, manager) -> None:
        manager.add_option("--celery-lint-no-cache", action="store_true", parse_from_config=True,
                           help="celery-lint: neither read nor write the analysis cache.")
        manager.add_option("--celery-lint-cache-dir", metavar="DIR", parse_from_config=True, normalize_paths=True,
                           help="celery-lint: cache directory (default: .celery_lint_cache in the project root).")
        manager.add_option("--celery-lint-task-decorators", metavar="NAMES", default="", parse_from_config=True,
                           comma_separated_list=True,
                           help="celery-lint: dotted names of project decorators that make tasks, added to "
                                "task-decorators from pyproject.toml.")

    @classmethod
    def parse_options(cls, options) -> None:
        cls.no_cache = options.celery_lint_no_cache
        cls.cache_dir = Path(options.celery_lint_cache_dir) if options.celery_lint_cache_dir else None
        # A cache directory a repository's own setup.cfg or .flake8 names must stay inside the project; one the
        # user typed on the command line may be anywhere.
        cls.cache_dir_typed = any(arg.startswith("--celery-lint-cache-dir") for arg in sys.argv[1:])
        cls.task_decorators = tuple(options.celery_lint_task_decorators)
        cls.selected = _any_selected(options)
        cls._configs, cls._reports = {}, {}  # a new run (or a long-lived process) must see fresh files

    def run(self) -> Iterator[tuple]:
        if not self.selected:
            return  # flake8 would drop everything we report: no analysis, no cache written
        from .. import discovery, engine

        path = discovery.lexical(Path(self.filename))
        root = discovery.find_root(path)
        relative = discovery.relative_to(path, root)
        config = self._config(root)
        if discovery.is_excluded(relative, config.excludes):
            return  # not part of the project celery-lint analyses, so nothing to report (as `celery-lint .`)
        buffer = _buffer(path, self.lines)
        key = (root,) if buffer is None else (root, path, hashlib.sha1(buffer).hexdigest())
        if key not in self._reports:
            # flake8 -j workers are daemonic processes, which may not start the engine's process pool.
            jobs = 1 if _in_a_daemon() else None
            self._reports[key] = engine.analyse_root(
                root, config, overrides={path: buffer} if buffer is not None else None,
                cache_dir=self.cache_dir, use_cache=not self.no_cache, jobs=jobs,
                cache_within=None if self.cache_dir_typed else root, findings_only=True,
            )
        for finding in self._reports[key].findings:
            if finding.path == relative:
                yield finding.line, finding.col - 1, f"{finding.code} {finding.message}", type(self)

    def _config(self, root: Path) -> "Config":
        from .. import config as config_module

        if root not in self._configs:
            try:
                config = config_module.load(root)
            except config_module.ConfigError as exc:  # flake8 prints it as a critical error and exits 1
                raise ExecutionError(f"celery-lint: error: {exc}") from None
            extra = tuple(d for d in self.task_decorators if d not in config.task_decorators)
            self._configs[root] = config.with_overrides(task_decorators=config.task_decorators + extra)
        return self._configs[root]


def _any_selected(options) -> bool:
    """Would flake8 report any of our codes? Asked of flake8's own DecisionEngine, so ``--select``,
    ``--extend-select``, ``--ignore``, ``--extend-ignore``, config files and the default selection (a plugin's
    codes are in it) count exactly as flake8 counts them."""
    from flake8.style_guide import Decision, DecisionEngine

    try:
        decisions = DecisionEngine(options)
    except AttributeError:  # options without flake8's selection (a caller of our own): run
        return True
    return any(decisions.decision_for(code) is Decision.Selected for code in CODES)


def _in_a_daemon() -> bool:
    import multiprocessing  # here: a kept answer (most runs) never starts a pool, and this import is not free

    return multiprocessing.current_process().daemon


def _buffer(path: Path, lines) -> Optional[bytes]:
    """The text flake8 is checking, encoded, when it is not what is on disk (an unsaved buffer); else None."""
    text = "".join(lines)
    try:
        with tokenize.open(path) as handle:  # how flake8 reads files, so equal text means the same file
            if handle.read() == text:
                return None
    except (OSError, SyntaxError, UnicodeDecodeError):
        pass
    encoding, _ = tokenize.detect_encoding(io.BytesIO(text.encode("utf-8", "replace")).readline)
    return text.encode("utf-8" if encoding == "utf-8-sig" else encoding, "replace")
