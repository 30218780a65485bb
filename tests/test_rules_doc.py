"""Each rule's own examples, run through the engine, and the README table checked against the rules."""
from __future__ import annotations

import re

import pytest

from celery_lint.rules import RULES
from conftest import REPO, lint, write_project

EXAMPLES = [(rule.code, kind, i, files) for rule in RULES for kind in ("VALID", "INVALID")
            for i, files in enumerate(getattr(rule, kind))]


@pytest.mark.parametrize("code,kind,index,files", EXAMPLES, ids=[f"{c}-{k}-{i}" for c, k, i, _ in EXAMPLES])
def test_rule_examples(tmp_path, code, kind, index, files):
    codes = [line.split()[1] for line in lint(write_project(tmp_path / "p", files))]
    if kind == "VALID":
        assert code not in codes
    else:
        assert codes.count(code) == 1


def test_readme_table_matches_rules():
    readme = (REPO / "README.md").read_text()
    rows = re.findall(r"^\| (CEL\d+) \| ([\w-]+) \| ([^|]+) \|", readme, re.MULTILINE)
    assert [(code, name, text.strip()) for code, name, text in rows] == [(r.code, r.name, r.summary) for r in RULES]
