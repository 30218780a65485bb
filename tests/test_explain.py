"""``--explain`` and ``celery-lint explain``: for each task, the way the result that decided its verdict went (the
enqueue, every carrier on the way, the read, each at ``path:line:col`` with its code), the unread sites of an
unread task (a few, then how many more), and every line said once. The way is the flow's own record
(``Outcome.steps``), so these are exact outputs."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO, write_project

APP = 'from celery import Celery\n\napp = Celery("x", broker="redis://", backend="redis://")\n'


def explain(root: Path, *args: str) -> list:
    result = subprocess.run([sys.executable, "-m", "celery_lint", "explain", "--no-cache", *args], cwd=root,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_a_read_through_carriers_names_each_carrier_and_the_read():
    assert explain(REPO / "fixtures" / "bound_methods" / "project", "render_xlsx", "render_pdf") == [
        "exports/tasks.py:4: exports.tasks.render_pdf: read: its result is read at exports/views.py:9 (.get)",
        "    how its result is read:",
        "      exports/views.py:8:13  render_pdf.apply_async              (its bound .apply_async, called later)",
        "      exports/views.py:8:5   start = render_pdf.apply_async      (held in start)",
        # the call that enqueues and the .get() on its value start at one place: one line, both said
        "      exports/views.py:9:21  start((order_id,)).get(timeout=30)  (called: enqueues it; .get: reads the result)",
        "exports/tasks.py:14: exports.tasks.render_xlsx: read: its result is read at exports/views.py:15 (.get)",
        "    how its result is read:",
        "      exports/views.py:13:14  render_xlsx.delay                         (its bound .delay, called later)",
        '      exports/views.py:13:5   render = render_xlsx.delay if request.GET.get("excel") el...  (held in render)',
        "      exports/views.py:14:14  render(order_id)                          (called: enqueues it)",
        "      exports/views.py:14:5   handle = render(order_id)                 (held in handle)",
        "      exports/views.py:15:21  handle.get(timeout=30)                    (.get: reads the result)",
    ]


def test_a_maybe_names_the_unknown_that_may_hold_the_task_and_where_it_comes_from(tmp_path):
    root = write_project(tmp_path / "p", {
        "media/celery_app.py": APP,
        "media/jobs.py": "from media.celery_app import app\n\n\n@app.task\ndef approve(video_id):\n    return 1\n",
        "media/views.py": "from media import jobs\n\n\n"
                          "def _trigger(name, video_id):\n"
                          "    handle = getattr(jobs, name).delay(video_id)\n"
                          "    return handle.get(timeout=10)\n\n\n"
                          "def moderate(request, video_id):\n"
                          '    return {"ok": _trigger(request.POST["action"], video_id)}\n',
    })
    assert explain(root, "approve") == [
        "media/jobs.py:4: media.jobs.approve: maybe: a task of media.jobs named at run time (it may be this one) has "
        "its result read at media/views.py:6 (.get)",
        "    why it may be read:",
        "      media/views.py:5:14  getattr(jobs, name).delay(video_id)       (enqueues getattr(media.jobs, name): a "
        "task of that module named by the parameter name)",
        "      media/views.py:5:5   handle = getattr(jobs, name).delay(video_id)  (held in handle)",
        "      media/views.py:6:12  handle.get(timeout=10)                    (.get: reads the result)",
    ]


def test_a_task_a_constructor_keeps_names_the_read_through_the_attribute():
    """``Executor(None, get_results)`` whose ``__init__`` keeps ``task`` as ``self._task``, read in ``run``: the read
    is named, through the attribute (before the class carriers: "maybe", a task we cannot name read there)."""
    lines = explain(REPO / "fixtures" / "instance_flows" / "project", "get_results")
    assert lines == [
        "hooks/tasks.py:9: hooks.tasks.get_results: read: its result is read at hooks/services.py:20 (.get)",
        "    how its result is read:",
        "      hooks/services.py:20:16  self._task.delay(query_id).get(timeout=30)  (enqueues self._task of "
        "hooks.services.Executor: what its class hierarchy (or an instance, or its constructor's callers) holds "
        "there; .get: reads the result)",
        "    hooks/services.py:23: handed on as a value",
    ]


def test_an_unread_task_lists_a_few_unread_sites_then_how_many_more_and_says_each_line_once(tmp_path):
    calls = "".join(f"    ping.delay({n})\n" for n in range(3, 8))
    root = write_project(tmp_path / "p", {
        "shop/tasks.py": APP + "\n\n@app.task\ndef ping(n):\n    return n\n",
        "shop/views.py": "from shop.tasks import ping\n\n\ndef hourly():\n    ping.delay(1); ping.delay(2)\n" + calls
                         + "\n\nHOOKS = [ping]\n",
    })
    assert explain(root, "ping") == [
        "shop/tasks.py:6: shop.tasks.ping: unread: nothing reads its result",
        "    shop/views.py:5: enqueued: result discarded",  # two calls on one line: said once
        "    shop/views.py:6: enqueued: result discarded",
        "    shop/views.py:7: enqueued: result discarded",
        "    shop/views.py:8: enqueued: result discarded",
        "    and 3 more",  # lines 9 and 10, and where it is handed on as a value (line 13)
    ]


def test_a_result_returned_by_a_helper_is_followed_into_the_file_of_its_caller(tmp_path):
    root = write_project(tmp_path / "p", {
        "shop/tasks.py": APP + "\n\n@app.task\ndef quote(n):\n    return n\n\n\ndef start_quote(n):\n"
                               "    return quote.delay(n)\n",
        "shop/views.py": "from shop.tasks import start_quote\n\n\ndef view(n):\n    pending = start_quote(n)\n"
                         "    return pending.get(timeout=5)\n",
    })
    assert explain(root, "quote") == [
        "shop/tasks.py:6: shop.tasks.quote: read: its result is read at shop/tasks.py:12 (returned by start_quote(), "
        "whose value at shop/views.py:6: .get)",
        "    how its result is read:",
        "      shop/tasks.py:12:12  quote.delay(n)                 (enqueues it)",
        "      shop/tasks.py:12:5   return quote.delay(n)          (returned to the caller)",
        # the way of a call's value is placed by its line (a column costs LibCST's code generation, every call)
        "      shop/views.py:5      pending = start_quote(n)       (held in pending)",
        "      shop/views.py:6      return pending.get(timeout=5)  (.get: reads the result)",
    ]
