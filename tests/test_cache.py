"""The on-disk cache: warm runs parse nothing (and never import libcst), edits re-parse only what changed,
a corrupt cache is rebuilt, and concurrent runs never corrupt it."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from celery_lint import config as config_module
from celery_lint import engine
from celery_lint.sources import Sources

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "decorator_forms" / "project"


def analyse(root: Path):
    return engine.analyse_root(root, config_module.load(root))


def copy(tmp_path) -> Path:
    root = tmp_path / "proj"
    shutil.copytree(FIXTURE, root)
    return root


def test_warm_run_parses_nothing_and_changes_reparse_one_file(tmp_path):
    root = copy(tmp_path)
    cold = analyse(root)
    assert cold.parsed > 0
    assert (root / ".celery_lint_cache" / ".gitignore").read_text().strip().endswith("*")
    warm = analyse(root)
    assert warm.parsed == 0
    assert [f.format() for f in warm.findings] == [f.format() for f in cold.findings]
    views = root / "mailer" / "views.py"
    views.write_text(views.read_text() + "\n\ndef later():\n    send_welcome.delay(1).get()\n")
    edited = analyse(root)
    assert edited.parsed == 1
    assert not any("send_welcome" in f.message for f in edited.findings)  # now read


def test_warm_run_does_not_import_libcst(tmp_path):
    root = copy(tmp_path)
    analyse(root)
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from celery_lint import config, engine
        report = engine.analyse_root(Path({str(root)!r}), config.load(Path({str(root)!r})))
        print(len(report.findings), report.parsed, "libcst" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    assert out == [str(len(analyse(root).findings)), "0", "False"]


def test_corrupt_cache_is_rebuilt(tmp_path):
    root = copy(tmp_path)
    expected = [f.format() for f in analyse(root).findings]
    for index in (root / ".celery_lint_cache").glob("index-*.json"):
        index.write_text('{"version": "0.1.0", "files": {"mailer/tasks.py": {"mtime": 1')
    report = analyse(root)
    assert [f.format() for f in report.findings] == expected
    assert report.parsed > 0


def test_concurrent_runs_agree_and_leave_a_valid_cache(tmp_path):
    root = copy(tmp_path)
    command = [sys.executable, "-m", "celery_lint", "-q", "."]
    runs = [subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [run.communicate()[0] for run in runs]
    assert len(set(outputs)) == 1 and outputs[0].count("CEL00") == 9
    (index,) = (root / ".celery_lint_cache").glob("index-*.json")
    assert json.loads(index.read_text())["files"]


HELPER_PROJECT = {
    "pyproject.toml": "",
    "shop/__init__.py": "",
    "shop/tasks.py": "from celery import shared_task\n\n\n@shared_task\ndef send(order_id):\n    return order_id\n",
    # a helper that hands back the result: its name is of interest too, found only once tasks.py is summarised
    "shop/api.py": "from .tasks import send\n\n\ndef start(order_id):\n    return send.delay(order_id)\n",
    # no Celery token: found through the task's name, and it never mentions the helper's
    "shop/inline.py": "from .tasks import send\n\n\ndef now(order_id):\n    return send(order_id)\n",
    "shop/views.py": "from .api import start\n\n\ndef view(request):\n    start(1)\n",
}


def test_a_warm_run_reads_no_source_and_writes_nothing(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    an_hour_ago = time.time() - 3600  # files not edited within the clock's tick of the run (see cache.RACY_NS)
    for relative, text in HELPER_PROJECT.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
        os.utime(root / relative, (an_hour_ago, an_hour_ago))
    cold = analyse(root)
    assert [f.code for f in cold.findings] == ["CEL001"]
    analyse(root)  # the first warm run may still answer what the cold run never asked
    (index,) = (root / ".celery_lint_cache").glob("index-*.json")
    before = (index.read_bytes(), index.stat().st_mtime_ns)
    reads = []
    real_read = Sources.read

    def counting_read(self, file, stat=None):
        if file.source is None and file.problem is None:
            reads.append(file.path)
        return real_read(self, file, stat)

    monkeypatch.setattr(Sources, "read", counting_read)
    warm = analyse(root)
    assert (warm.parsed, reads) == (0, [])
    assert [f.format() for f in warm.findings] == [f.format() for f in cold.findings]
    assert (index.read_bytes(), index.stat().st_mtime_ns) == before
