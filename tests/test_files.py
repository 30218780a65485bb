"""Discovery, excludes, the project root and module names."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from celery_lint import files


def touch(root: Path, *relatives: str) -> None:
    for relative in relatives:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")


@pytest.mark.parametrize("relative,expected", [
    ("shop/tasks.py", ("shop.tasks", False)),
    ("shop/__init__.py", ("shop", True)),
    ("src/lib/jobs/tasks.py", ("lib.jobs.tasks", False)),  # src layout
    ("shop/base/models.py", ("shop.base.models", False)),  # a directory without __init__ inside a package
    ("scripts/run.py", ("run", False)),  # loose scripts import each other by file name
])
def test_module_names(tmp_path, relative, expected):
    touch(tmp_path, "pyproject.toml", "shop/__init__.py", "src/lib/__init__.py", "src/lib/jobs/__init__.py",
          "shop/base/models.py", "scripts/run.py", "shop/tasks.py", "src/lib/jobs/tasks.py")
    assert files.module_name(tmp_path / relative, tmp_path) == expected


def test_root_is_the_nearest_marker(tmp_path):
    touch(tmp_path, "setup.cfg", "pkg/sub/mod.py")
    assert files.find_root(tmp_path / "pkg" / "sub" / "mod.py") == tmp_path.resolve()


def test_discovery_skips_default_and_configured_excludes(tmp_path):
    touch(tmp_path, "app/tasks.py", ".venv/lib/x.py", "build/y.py", "node_modules/z.py", "app/migrations/0001.py",
          "docs/conf.py", "app/readme.txt")
    found = files.discover(tmp_path, files.DEFAULT_EXCLUDES + ("migrations", "docs/*"))
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["app/tasks.py"]


@pytest.mark.parametrize("text,expected", [
    (b"from celery import shared_task", True),
    (b"send_email.delay(1)", True),
    (b"x.apply_async()", True),
    (b"CELERY_TASK_IGNORE_RESULT = True", True),
    (b"@huey.periodic(crontab())\ndef f(): pass", False),
    (b"import itertools\nitertools.chain(a, b)", False),
    (b"from __future__ import annotations", False),
    (b"class Export(base.Task): pass", True),  # matched case-insensitively
    (b"r = GroupResult.restore(gid)", True),
    (b"t = current_app.tasks [name]", True),
    (b"app.config_from_envvar('X')", True),
    (b"self.tasks = []", False),
])
def test_prefilter(text, expected):
    assert files.mentions_celery(text) is expected


TOKEN_SAMPLES = [
    b"from celery import x", b"f.delay(1)", b"f.delayed", b"apply_async", b"send_task", b"asyncresult(i)",
    b"groupresult", b"result_from_tuple", b"ignore_result", b"update_state", b"f.s(1)", b"f.si(1)", b"f.sig(1)",
    b"signature(x)", b"subtask", b"app.task", b"app.tasks", b"app.tasks [n]", b"app.tasks\n[n]", b"shared_task",
    b"shared_tasks", b"result_backend", b"task_annotations", b"beat_schedule", b"config_from_envvar", b"config",
    b"cel ery", b"results", b"x.s (1)", b"_task_x", b".task_id",
]


def test_grouped_token_pattern_is_the_token_list():
    plain = re.compile(b"|".join(files.TOKENS))
    for text in TOKEN_SAMPLES:
        for padded in (text, b"x = " + text + b" + 1", text * 2):
            assert ([m.span() for m in files.CELERY_TOKENS.finditer(padded)]
                    == [m.span() for m in plain.finditer(padded)]), padded
    assert len(files.TOKENS) == 20 and sum(bool(plain.search(t)) for t in TOKEN_SAMPLES) == 21


def test_tokens_are_matched_in_lower_case():
    # the pattern runs on lowered text: an upper-case letter or escape in it (``\S``, ``\W``) would never match
    # what it means
    assert files.CELERY_TOKENS.pattern == files.CELERY_TOKENS.pattern.lower()


def test_interest_matches_whole_words_only():
    interest = files.Interest(["send_email", "shop.tasks.purge"])
    assert interest.names_in(b"from shop.tasks import purge")
    assert interest.names_in(b"x = send_email")
    assert not interest.names_in(b"x = send_emails + purged")
