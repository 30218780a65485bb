"""The carriers of task values (issue 20), on the fixture families that show them (fixtures/<case>): every task
a carrier brings to a read keeps its results under ``--strategy global`` (ignore_result=False written on it), and
only those. The per-task findings and fixed sources of the same fixtures are checked by test_fixtures.py."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from helpers import cli

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
KEPT = re.compile(r"set ignore_result=False on the tasks whose results are read or may be read \(\d+\): (.*)")

READ = {
    # start = t.apply_async; a.delay if c else b.delay; functools.partial(t.delay, x); a dict of .delay's
    "bound_methods": ["exports.tasks.render_pdf", "exports.tasks.render_csv", "exports.tasks.render_xlsx",
                      "exports.tasks.export_ledger"],
    # a group with a task after it in a chain is a chord: its members are chord headers
    "chord_upgrade": ["catalog.tasks.price_sku", "catalog.tasks.stock_sku", "catalog.tasks.thumbnail",
                      "catalog.tasks.translate"],
    # delay_on_commit() returns None: only the plain .delay() read keeps charge_card
    "on_commit": ["orders.tasks.charge_card"],
    # self.task (class attributes), a parameter (callers' arguments), a conditional argument, a loop over a tuple
    "task_carriers": ["billing.tasks.render_invoice", "billing.tasks.render_statement", "billing.tasks.charge",
                      "billing.tasks.refund", "billing.tasks.bill_monthly", "billing.tasks.bill_yearly"],
    # progress reported through helpers; getattr(module, name) with the literal names its callers pass
    "local_unknowns": ["media.jobs.transcode", "media.jobs.ingest", "media.jobs.approve", "media.jobs.expire"],
}


@pytest.mark.parametrize("case", sorted(READ))
def test_global_strategy_keeps_exactly_the_tasks_carriers_bring_to_a_read(case, tmp_path):
    root = Path(shutil.copytree(FIXTURES / case / "project", tmp_path / case))
    result = cli(root, "--no-cache", "--fix", "--strategy", "global", ".")
    assert "Traceback" not in result.stderr
    kept = [match.group(1) for match in map(KEPT.search, result.stderr.splitlines()) if match]
    assert len(kept) == 1, result.stderr
    assert sorted(entry.split(" (")[0] for entry in kept[0].split(", ")) == sorted(READ[case])
    for qualname in READ[case]:
        module, _, name = qualname.rpartition(".")
        source = (root / (module.replace(".", "/") + ".py")).read_text()
        assert re.search(rf"ignore_result=False\)\ndef {name}\(", source), qualname
