"""What the slicer cuts before LibCST sees a file: exact source in, exact source out, lines mapped back.

The rule it must keep: whatever it cuts could not change the summary. test_corpus checks that on real
projects (sliced and whole files give the same verdicts); these cases pin each cut and each reason to keep.
"""
import sys
import textwrap

import pytest

from celery_lint.analysis.statements import SourceCut, parse_statements
from celery_lint.speed.prefilter import Interest
from celery_lint.speed.slicing import slice_source


def sliced(source: str, names=()) -> str:
    result = slice_source(textwrap.dedent(source).lstrip("\n").encode(), Interest(names))
    return result.source.decode()


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


LOCALS_AROUND_A_FUNCTION = """
def view(request):
    job = send.delay()

    def label():
        noise = 1
        return "x"

    return render(request, "t.html", locals())
"""  # nothing is cut: the expected text is the source


CASES = {
    "top-level statements without interest go, imports stay": (
        """
        import os
        from proj.tasks import send

        LIMIT = 3

        def helper():
            return os.getcwd()

        def view():
            send.delay()
        """,
        """
        import os
        from proj.tasks import send
        def view():
            send.delay()
        """,
    ),
    "a result's variable is followed; unrelated statements go": (
        """
        def view(request):
            log("start")
            result = send.delay()
            copy = result
            other = 1
            return copy.get()
        """,
        """
        def view(request):
            result = send.delay()
            copy = result
            return copy.get()
        """,
    ),
    "the binding of a name a kept statement uses stays": (
        """
        def view(kind):
            chosen = pick(kind)
            unrelated = kind * 2
            chosen.delay()
        """,
        """
        def view(kind):
            chosen = pick(kind)
            chosen.delay()
        """,
    ),
    "parameters are not followed unless reassigned": (
        """
        def view(self, request):
            self.title = request.GET["t"]
            self.task.delay(request.user.pk)
        """,
        """
        def view(self, request):
            self.task.delay(request.user.pk)
        """,
    ),
    "a block left empty keeps a pass": (
        """
        def view(flag):
            if flag:
                log("a")
                log("b")
            else:
                send.delay()
        """,
        """
        def view(flag):
            if flag:
                pass
            else:
                send.delay()
        """,
    ),
    "idle methods and fields of a kept class go; task attributes stay": (
        """
        class Export(Task):
            name = "proj.export"
            verbose = "Export"

            def run(self):
                self.update_state(state="X")

            def describe(self):
                return self.verbose
        """,
        """
        class Export(Task):
            name = "proj.export"
            def run(self):
                self.update_state(state="X")
        """,
    ),
    "a method that mentions nothing of interest goes whole, a one-line if in it too": (
        """
        class Report(Task):
            def run(self):
                self.update_state(state="X")

            def describe(self, short):
                if short: return "report"
                return "the full report"
        """,
        """
        class Report(Task):
            def run(self):
                self.update_state(state="X")
        """,
    ),
    "a method whose name a kept statement uses stays, only what it needs in it": (
        """
        class Views:
            def helper(self):
                noise = 1
                return 2

            handle = shared_task(helper)
        """,
        """
        class Views:
            def helper(self):
                pass
            handle = shared_task(helper)
        """,
    ),
    "locals() in the enclosing function keeps a nested function whole": (
        LOCALS_AROUND_A_FUNCTION, LOCALS_AROUND_A_FUNCTION),
    "locals() keeps the whole function": (
        """
        def view(request):
            job = send.delay()
            title = "x"
            return render(request, "t.html", locals())
        """,
        """
        def view(request):
            job = send.delay()
            title = "x"
            return render(request, "t.html", locals())
        """,
    ),
    "a statement sharing its line stays": (
        """
        def view(flag):
            if flag: log("x")
            a = 1; b = 2
            send.delay()
        """,
        """
        def view(flag):
            if flag: log("x")
            a = 1; b = 2
            send.delay()
        """,
    ),
    "global declarations of a followed name stay": (
        """
        def view():
            global last
            other = 2
            last = send.delay()
        """,
        """
        def view():
            global last
            last = send.delay()
        """,
    ),
    "the running task's own request stays": (
        """
        @shared_task(bind=True)
        def run(self):
            count = 1
            publish(self.request.id)
        """,
        """
        @shared_task(bind=True)
        def run(self):
            publish(self.request.id)
        """,
    ),
    "getattr on a module stays, getattr on self goes": (
        """
        def dispatch(self, action):
            handler = getattr(self, "on_" + action, None)
            job = getattr(tasks, action)
            return job
        """,
        """
        def dispatch(self, action):
            job = getattr(tasks, action)
            return job
        """,
    ),
    "a walrus binding is followed": (
        """
        def view():
            if (result := send.delay()) is not None:
                log("sent")
            value = result.get()
            other = 3
        """,
        """
        def view():
            if (result := send.delay()) is not None:
                pass
            value = result.get()
        """,
    ),
    "a variable used by a nested function is followed into it": (
        """
        def view():
            result = send.delay()

            def later():
                noise = 1
                return result.get()

            return later
        """,
        """
        def view():
            result = send.delay()
            def later():
                return result.get()
            return later
        """,
    ),
    "a name of interest keeps the statements that mention it": (
        """
        from proj import tasks

        def cleanup_everything():
            tasks.cleanup.apply()
            unrelated()
        """,
        """
        from proj import tasks

        def cleanup_everything():
            tasks.cleanup.apply()
        """,
    ),
}


@pytest.mark.parametrize("source, expected", CASES.values(), ids=CASES.keys())
def test_slicing(source, expected):
    assert sliced(source, names=["cleanup"]) == dedent(expected)


def test_line_numbers_map_back_to_the_file():
    source = dedent("""
        # -*- coding: utf-8 -*-

        import os

        LIMIT = 3

        def view():
            # enqueue
            log("x")
            send.delay()
    """).encode()
    result = slice_source(source, Interest())
    # the first two lines may declare the encoding: kept; other blank and comment lines go
    assert result.source == b"# -*- coding: utf-8 -*-\n\nimport os\ndef view():\n    send.delay()\n"
    assert result.line_numbers == [1, 2, 3, 7, 10]
    assert result.dropped == [[5, 5], [9, 9]]


def test_a_comment_like_line_that_closes_a_string_stays():
    source = dedent('''
        import os

        LIMIT = 3

        def view():
            # a comment
            send.delay(note="""see #14589,
            #16506""")
    ''').encode()
    result = slice_source(source, Interest())
    assert result.source == b'import os\n\ndef view():\n    send.delay(note="""see #14589,\n    #16506""")\n'


def test_nothing_to_cut_leaves_the_source_alone():
    source = b"from celery import shared_task\n\n@shared_task\ndef add(x, y):\n    return other.delay(x + y)\n"
    sliced = slice_source(source, Interest())
    assert (sliced.source, sliced.dropped, sliced.line_numbers, sliced.defined) == (source, [], None, frozenset())


@pytest.mark.parametrize("source", [
    "type Alias = list[int]\n",
    "type Pair[T] = tuple[T, T]\n",
    "class Box[T: (int, str)](Base):\n    pass\n",
    "def first[T](items: list[T]) -> T:\n    return items[0]\n",
    "class Pool[\n    T: object\n]:\n    pass\n",
    "class Pool[\r\n    T\r\n]:\r\n    pass\r\n",
])
def test_statement_positions_read_newer_syntax(source):
    tree = parse_statements(source.encode())
    assert tree is not None
    assert [statement.lineno for statement in tree.body] == [1]
    assert tree.body[0].end_lineno == source.count("\n")


NEWER_SYNTAX = [  # (syntax, the Python that first reads it)
    (b"x = f'{'\\n'.join(a)}'\nsend.delay()\n", (3, 12)),  # a backslash in an f-string expression
    (b"try:\n    send.delay()\nexcept A, B:\n    pass\n", (3, 14)),  # except without parentheses (PEP 758)
]


@pytest.mark.skipif(sys.version_info >= NEWER_SYNTAX[-1][1], reason="this Python reads every syntax listed")
def test_unreadable_syntax_is_left_to_libcst():
    source = next(text for text, since in NEWER_SYNTAX if sys.version_info < since)
    sliced = slice_source(source, Interest())
    assert (sliced.source, sliced.dropped, sliced.line_numbers, sliced.defined) == (source, [], None, frozenset())


@pytest.mark.parametrize("source, referenced", [
    ("from proj.tasks import cleanup\ncleanup()\n", True),
    ("from proj.tasks import (\n    other,  # see (x)\n    cleanup,\n)\n", True),
    ("import proj.tasks as t, \\\n    cleanup\n", True),
    ("from proj import tasks\ntasks.cleanup()\n", True),
    ("from proj.tasks import *\n", True),  # may re-export it to a module that names it
    ("from .base import *\nX = 1\n", True),
    ("from .base import \\\n    *\n", True),
    ("total = reimport * 2\n", False),  # not the word ``import``
    ("handler = getattr(module, 'cleanup')\n", True),
    ("def cleanup():\n    pass\n", False),  # a function of the same name, not the task
    ("HELP = 'run cleanup nightly'\n", False),
    ("x = 1\n", False),
])
def test_a_file_without_celery_tokens_refers_to_a_name_only_through_bindings(source, referenced):
    assert Interest(["proj.tasks.cleanup"]).referenced_in(source.encode()) is referenced


def test_a_slicing_mistake_costs_time_never_a_summary():
    from celery_lint.analysis import summary

    source = b"from celery import shared_task\n\n@shared_task\ndef add(x):\n    return x\n\nadd.delay(1)\n"
    broken = SourceCut(b"def (:\n", [1])  # what a wrong cut could give
    result = summary.summarize(source, "m.py", "m", False, cut=broken)
    assert result.error is None
    assert [f.name for f in result.functions] == ["add"]
    assert [u.kind for u in result.uses] == ["enqueue"]


def test_a_followed_function_stays_whole_and_makes_no_other_file_matter():
    """``ident()``: the summary follows the returns of this file's ``ident`` (``ident(send).delay()``). It stays
    whole (a closure may rebind a parameter), but a file that only imports ``ident`` names nothing of interest."""
    source = textwrap.dedent('''\
        def ident(x):
            def reset():
                nonlocal x
                x = make()
            reset()
            return x


        def unrelated():
            return 1


        def view():
            return ident(send).delay(1)
    ''').encode()
    interest = Interest(["send", "ident()"])
    assert (interest.names, interest.returning) == ({b"send"}, {b"ident"})
    assert slice_source(source, Interest(["send"])).source == (
        b"def ident(x):\n    pass\ndef view():\n    return ident(send).delay(1)\n")
    assert slice_source(source, interest).source == (
        b"def ident(x):\n    def reset():\n        nonlocal x\n        x = make()\n    reset()\n    return x\n"
        b"def view():\n    return ident(send).delay(1)\n")
    assert interest.seen_in(source) == ["ident()", "send"]
    assert not interest.referenced_in(b"from app.views import ident\n\nSIZE = ident(3)\n")
    assert Interest(["send", "ident"]).referenced_in(b"from app.views import ident\n\nSIZE = ident(3)\n")
    assert interest.key != Interest(["send"]).key


ELIF_CUT = """
from celery import shared_task


@shared_task
def job(x):
    if x:
        job.delay(1)
    elif x > 2:
        job.delay(2)
    elif x > 3:
        print("nothing")
    for y in range(x):
        if y:
            job.delay(y)
        elif y > 1:
            noise = 1
        else:
            noise = 2
    try:
        job.delay(0)
    except ValueError:
        noise = 3
    finally:
        print(noise)


@shared_task
def other():
    noise = 4
"""


def test_the_cut_texts_statements_come_from_the_files_tree():
    """Python's statements of the cut text, told from the whole file's tree, are a parse of the cut text: the
    ``pass`` of a cut ``elif`` written at its ``if``'s indentation follows the ``if``; other blocks cut whole keep
    their ``pass``; nothing cut gives the file's own statements."""
    import ast

    import libcst as cst

    from celery_lint.analysis.placing import statement_lines

    result = slice_source(dedent(ELIF_CUT).encode(), Interest(["job"]))
    assert result.source.decode() == dedent("""
        from celery import shared_task

        @shared_task
        def job(x):
            if x:
                job.delay(1)
            elif x > 2:
                job.delay(2)
            pass
            for y in range(x):
                if y:
                    job.delay(y)
                elif y > 1:
                    pass
                else:
                    pass
            try:
                job.delay(0)
            except ValueError:
                pass
            finally:
                pass
        @shared_task
        def other():
            pass
        """)
    body = result.statements.body[1].body
    assert [each.kind for each in body] == [ast.If, ast.Pass, ast.For, ast.Try]
    assert [(each.lineno, each.end_lineno) for each in body] == [(5, None), (9, 9), (10, None), (17, None)]
    assert body[0].orelse[0].lineno == 7 and body[0].orelse[0].orelse == []
    assert body[2].body[0].orelse[0].lineno == 13 and body[3].handlers[0].body[0].lineno == 20
    tree = cst.parse_module(result.source)
    assert statement_lines(tree, result.source, result.statements) == statement_lines(tree, result.source)
    whole = slice_source(b"import celery\nif celery:\n    x = 1\n", Interest())
    assert whole.line_numbers is None and [s.kind for s in whole.statements.body] == [ast.Import, ast.If]
    assert whole.statements.body[1].body[0].end_lineno == 3
