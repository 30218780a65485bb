"""Celery's vocabulary is one table (``celery_api.TERMS``): the prefilter's tokens are derived from it, and every
construct it names survives the speed layer (the prefilter takes its file, the slicer keeps its statement).
A new Celery API is one row there, the analysis that reads it, and maybe a rule: nothing in ``speed/``."""
from __future__ import annotations

import re

import pytest

from celery_lint import celery_api
from celery_lint.celery_api import TERMS, Role
from celery_lint.speed import prefilter
from celery_lint.speed.prefilter import Interest
from celery_lint.speed.slicing import slice_source

EXAMPLES = [term for term in TERMS if term.example]


def test_every_term_says_how_a_file_using_it_is_found():
    for term in TERMS:
        assert term.token is not None or term.untokened, term
        assert term.token is None or not term.untokened, term


@pytest.mark.parametrize("term", EXAMPLES, ids=[f"{t.role.name}-{t.names[0]}" for t in EXAMPLES])
def test_every_example_survives_prefilter_and_slicer(term):
    source = term.example.encode()
    marked = [number for number, line in enumerate(source.splitlines(), start=1) if line.endswith(b"# <-")]
    assert len(marked) == 1, "an example marks the line that must survive with '# <-'"
    keep = Interest(["job", "nightly_task"])  # the names of interest the examples use
    assert prefilter.mentions_celery(source) or keep.referenced_in(source), "the prefilter skips the file"
    sliced = slice_source(source, keep)
    assert sliced.line_numbers is None or marked[0] in sliced.line_numbers, "the slicer cuts the statement"


@pytest.mark.parametrize("term", [t for t in TERMS if t.token is not None], ids=lambda t: t.names[0])
def test_a_term_with_a_token_is_found_in_phase_one(term):
    """Phase one, by its token alone: the names of interest are not needed."""
    if term.example:
        assert prefilter.mentions_celery(term.example.encode())


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
    (b"@app.\\\ntask\ndef f(): pass", True),  # a backslash continuation after the dot
    (b"(app.\n    task)", True),  # a line break inside brackets
])
def test_prefilter(text, expected):
    assert prefilter.mentions_celery(text) is expected


TOKEN_SAMPLES = [
    b"from celery import x", b"f.delay(1)", b"f.delayed", b"apply_async", b"send_task", b"asyncresult(i)",
    b"groupresult", b"result_from_tuple", b"ignore_result", b"update_state", b"f.s(1)", b"f.si(1)", b"f.sig(1)",
    b"signature(x)", b"subtask", b"app.task", b"app.tasks", b"app.tasks [n]", b"app.tasks\n[n]", b"shared_task",
    b"shared_tasks", b"result_backend", b"task_annotations", b"beat_schedule", b"config_from_envvar", b"config",
    b"result_expires", b"celery_task_result_expires", b"result_extended", b"result_expire",
    b"cel ery", b"results", b"x.s (1)", b"_task_x", b".task_id", b"app. \\\n task",
    b"config_from_object", b"app.conf.update(x)", b"app.conf.updated", b"conf.update", b"django_settings_module",
    b"f.delay_on_commit(1)", b"apply_async_on_commit", b"app.backend.get_task_meta(i)", b"taskresult.objects",
    b"get_task_meta(i)", b"x.get_children()", b"app.backend.wait_for(i)", b"x.wait_for(i)", b"def gen_task_name(self, n, m)", b"self.backend.store_result(i, m, s)", b"cache.store_result(x)",
    b"be = app.backend\n", b"app.backend  # kept", b"app.backends", b"be.get_status (i)", b"x.get_status", b"x.restore_group(g)",
]


def test_grouped_token_pattern_is_the_token_list():
    plain = re.compile(b"|".join(prefilter.TOKENS))
    for text in TOKEN_SAMPLES:
        for padded in (text, b"x = " + text + b" + 1", text * 2):
            assert ([m.span() for m in prefilter.CELERY_TOKENS.finditer(padded)]
                    == [m.span() for m in plain.finditer(padded)]), padded
    assert len(prefilter.TOKENS) == 36 and sum(bool(plain.search(t)) for t in TOKEN_SAMPLES) == 42


def test_the_first_look_gives_the_full_pattern_s_answer():
    """``mentions_token`` screens with plain texts before the full pattern: never another answer."""
    assert prefilter._SCREEN is not None and b"_task" in prefilter._SCREEN[1]  # derived, and shortened
    samples = TOKEN_SAMPLES + [b"taskbar", b"signature", b"sub task", b"x.  s", b"result_", b"celer", b""]
    for text in samples:
        for padded in (text, b"x = " + text + b" + 1", b"# " + text + b"\n"):
            assert prefilter.mentions_token(padded) is bool(prefilter.CELERY_TOKENS.search(padded)), padded


def test_tokens_are_matched_in_lower_case():
    # the pattern runs on lowered text: an upper-case letter or escape in it (``\S``, ``\W``) would never match
    # what it means
    assert prefilter.CELERY_TOKENS.pattern == prefilter.CELERY_TOKENS.pattern.lower()


def test_the_analysis_reads_its_names_from_the_table():
    assert celery_api.ENQUEUE == {"delay", "apply_async"}
    assert celery_api.names(Role.RUN_TIME_IMPORT, Role.RUN_TIME_LOOKUP) == {
        "import_module", "import_string", "__import__", "symbol_by_name", "resolve_name", "getattr"}
    assert prefilter.RUN_TIME_LOOKUP_WORDS == {name.encode() for name in celery_api.names(Role.RUN_TIME_IMPORT, Role.RUN_TIME_LOOKUP)}


def test_interest_sees_whole_words_only():
    interest = Interest(["send_email", "shop.tasks.purge"])
    assert interest.seen_in(b"from shop.tasks import purge") == ["purge"]
    assert interest.seen_in(b"x = send_email") == ["send_email"]
    assert interest.seen_in(b"x = send_emails + purged") == []
