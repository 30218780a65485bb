"""Issue 22.4: smaller command-line items, each through the real CLI."""
from __future__ import annotations

import json
from pathlib import Path

from helpers import REPO, cli, write

APP = 'from celery import Celery\n\napp = Celery("shop", backend="redis://")\n'
TASKS = ("from shop.celery import app\n\n\n@app.task\ndef nightly():\n    return None\n\n\n"
         "@app.task(ignore_result=False)\ndef weekly():\n    return None\n")
VIEWS = "from shop.tasks import nightly, weekly\n\n\ndef view():\n    nightly.delay()\n    weekly.delay()\n"
NIGHTLY = ("shop/tasks.py:4:1: CEL001 result of task 'shop.tasks.nightly' is stored but never read "
           "(enqueued at 1 place); add ignore_result=True")
WEEKLY = ("shop/tasks.py:9:1: CEL001 result of task 'shop.tasks.weekly' is stored but never read "
          "(enqueued at 1 place); set ignore_result=True (it is False)")


def shop(root: Path, **more) -> Path:
    return write(root, {"shop/__init__.py": "", "shop/celery.py": APP, "shop/tasks.py": TASKS, "shop/views.py": VIEWS,
                        **more})


def findings(stdout: str):
    return [line for line in stdout.splitlines() if ": CEL" in line]


def test_statistics_honour_json_and_refuse_what_cannot_hold_them(tmp_path):
    root = shop(tmp_path / "p")
    rows = json.loads(cli(root, "--no-cache", "--statistics", "-o", "json").stdout)
    assert rows == [{"code": "CEL001", "name": "unread-result", "count": 2, "fixable": True}]
    assert cli(root, "--no-cache", "--statistics").stdout.splitlines()[0] == "    2\tCEL001\t[*] unread-result"
    refused = cli(root, "--no-cache", "--statistics", "-o", "sarif", "--fix")
    assert refused.returncode == 2 and "--statistics cannot be printed as sarif" in refused.stderr
    assert refused.stdout == "" and (root / "shop" / "tasks.py").read_text() == TASKS  # nothing fixed


def test_report_takes_output_format_like_check_and_keeps_format_hidden(tmp_path):
    shop_example = REPO / "examples" / "shop"
    expected = cli(REPO, "report", "--no-cache", "--format", "json", str(shop_example)).stdout
    for option in ("-o", "--output-format"):
        assert cli(REPO, "report", "--no-cache", option, "json", str(shop_example)).stdout == expected
    assert "--format" not in cli(REPO, "report", "--help").stdout
    clash = cli(REPO, "report", "-o", "json", "--format", "table", str(shop_example))
    assert clash.returncode == 2 and "disagree" in clash.stderr


def test_explain_command_names_tasks_by_name_dotted_name_or_suffix(tmp_path):
    root = shop(tmp_path / "p")
    for names in (("weekly",), ("tasks.weekly",), ("shop.tasks.weekly",)):
        result = cli(root, "explain", "--no-cache", *names)
        assert result.returncode == 0
        assert result.stdout.splitlines()[0] == "shop/tasks.py:9: shop.tasks.weekly: unread: nothing reads its result"
        assert "nightly" not in result.stdout
    both = cli(root, "explain", "--no-cache", "nightly", "weekly").stdout
    assert "shop.tasks.nightly: unread" in both and "shop.tasks.weekly: unread" in both
    unknown = cli(root, "explain", "--no-cache", "weekly", "hourly")
    assert unknown.returncode == 2 and "no task named 'hourly'" in unknown.stderr and unknown.stdout == ""
    assert "ks.weekly" not in [line.split(": ")[1] for line in both.splitlines() if not line.startswith(" ")]
    assert cli(root, "explain", "--no-cache", "ks.weekly").returncode == 2  # a suffix is whole dotted parts
    assert "shop.tasks.nightly: unread" in cli(root, "--no-cache", "--explain").stdout  # the flag still works


def test_a_task_written_ignore_result_false_is_told_to_set_it(tmp_path):
    root = shop(tmp_path / "p")
    assert findings(cli(root, "--no-cache").stdout) == [NIGHTLY, WEEKLY]
    cli(root, "--no-cache", "--fix")
    assert "@app.task(ignore_result=True)\ndef weekly" in (root / "shop" / "tasks.py").read_text()


def test_top_level_help_shows_checks_options(tmp_path):
    text = cli(tmp_path, "--help").stdout
    for option in ("--fix", "--select", "--extend-exclude", "--output-format", "--statistics", "--no-cache"):
        assert option in text, option
    assert "explain" in text


def test_sarif_level_agrees_with_the_json_severity(tmp_path):
    root = shop(tmp_path / "p")
    log = json.loads(cli(root, "--no-cache", "-o", "sarif").stdout)
    run = log["runs"][0]
    assert {r["level"] for r in run["results"]} == {"error"}
    assert {r["defaultConfiguration"]["level"] for r in run["tool"]["driver"]["rules"]} == {"error"}
    assert {r["severity"] for r in json.loads(cli(root, "--no-cache", "-o", "json").stdout)} == {"error"}


def test_file_level_noqa_comments_exempt_the_file(tmp_path):
    for comment, expected in (("# flake8: noqa", []), ("# ruff: noqa", []), ("# RUFF: NOQA", []),
                              ("# ruff: noqa: CEL001", []), ("# ruff: noqa: CEL002", [NIGHTLY, WEEKLY]),
                              ("x = 1  # ruff: noqa", [NIGHTLY, WEEKLY]),  # not a line of its own
                              ("# flake8: noqa: CEL001", [])):
        lines = (comment + "\n" + TASKS).replace("\n\n\n@app.task\n", "\n\n@app.task\n", 1)
        root = shop(tmp_path / comment.replace(" ", "_").replace(":", "").replace("#", ""), **{"shop/tasks.py": lines})
        assert findings(cli(root, "--no-cache").stdout) == expected, comment
    broken = shop(tmp_path / "broken", **{"shop/odd.py": "# ruff: noqa\ntotal = = 0\n"})
    assert "shop/odd.py:2:9: CEL000" in cli(broken, "--no-cache").stdout  # a parse error stays, as in ruff


def test_the_audit_leaves_out_excluded_files_but_counts_their_reads(tmp_path):
    root = shop(tmp_path / "p", **{"scripts/x.py": "from shop.tasks import weekly\nweekly.delay().get()\n",
                                    "scripts/jobs.py": "from shop.celery import app\n\n\n@app.task\ndef job():\n"
                                                       "    return 1\n\n\ndef go():\n    job.delay()\n"})
    audit = json.loads(cli(root, "report", "--no-cache", "-o", "json", ".").stdout)
    assert "jobs.job" in [t["name"] for p in audit["projects"] for t in p["tasks"]]
    (root / "pyproject.toml").write_text('[tool.celery-lint]\nextend-exclude = ["scripts"]\n')
    audit = json.loads(cli(root, "report", "--no-cache", "-o", "json", ".").stdout)
    verdicts = {t["name"]: t["verdict"] for p in audit["projects"] for t in p["tasks"]}
    assert verdicts == {"shop.tasks.nightly": "unread", "shop.tasks.weekly": "read"}


def test_explain_says_when_a_finding_is_left_out_because_its_file_is_excluded(tmp_path):
    root = shop(tmp_path / "p", **{"scripts/jobs.py": "from shop.celery import app\n\n\n@app.task\ndef job():\n"
                                                      "    return 1\n\n\ndef go():\n    job.delay()\n"})
    result = cli(root, "--no-cache", "--extend-exclude", "scripts", "--explain")
    assert "    no finding: its file is excluded (exclude / extend-exclude): analysed, never reported" in result.stdout
    assert not any(line.startswith("scripts/") for line in findings(result.stdout))
