"""Each rule's own examples, run through the engine (exact finding, exact fixed source, both paths), and the
README table checked against the rules."""
from __future__ import annotations

import re

import pytest

from celery_lint import config as config_module
from celery_lint import engine
from celery_lint.fixing.writing import fix_report
from celery_lint.rules import KNOWN_CODES, RULES
from conftest import REPO, write_project

EXAMPLES = [(rule.code, kind, i, example) for rule in RULES for kind in ("VALID", "INVALID")
            for i, example in enumerate(getattr(rule, kind))]


@pytest.mark.parametrize("code,kind,index,example", EXAMPLES, ids=[f"{c}-{k}-{i}" for c, k, i, _ in EXAMPLES])
def test_rule_examples(tmp_path, code, kind, index, example):
    root = write_project(tmp_path / "p", example.files)
    every_rule = config_module.load(root).with_overrides(select=KNOWN_CODES)  # opt-in rules too
    reports = [engine.analyse_root(root, every_rule, use_cache=False, speed=speed) for speed in (True, False)]
    fast, plain = ([f.format() for f in report.findings] for report in reports)
    assert fast == plain
    if kind == "VALID":
        assert not any(line.split()[1] == code for line in fast)
        return
    assert fast == [example.finding]
    fix_report(reports[0], write=True)
    assert {relative: (root / relative).read_text() for relative in example.fixed} == example.fixed


def test_every_rule_is_documented_and_known():
    assert KNOWN_CODES == tuple(rule.code for rule in RULES)
    for rule in RULES:
        assert rule.summary and rule.why and rule.fix and rule.VALID and rule.INVALID, rule.code


def test_readme_table_matches_rules():
    readme = (REPO / "README.md").read_text()
    rows = re.findall(r"^\| (CEL\d+) \| ([\w-]+) \| ([^|]+) \|", readme, re.MULTILINE)
    assert [(code, name, text.strip()) for code, name, text in rows] == [(r.code, r.name, r.summary) for r in RULES]
