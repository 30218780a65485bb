"""By hand (not run by pytest; about 30 s): random edits in and next to the cut ranges of every sliced Celery
file of the corpus; a summary moved by ``reuse`` must equal a fresh parse of the edited file.

    python tests/corpus/fuzz_reuse.py [CORPUS]     # default: $CELERY_LINT_CORPUS or <repo>/.corpus
"""
import os
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from celery_lint import discovery  # noqa: E402
from celery_lint.speed import prefilter, slicing  # noqa: E402
from celery_lint.speed.parallel import Work, summarise_one  # noqa: E402

CORPUS = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CELERY_LINT_CORPUS") or REPO / ".corpus")
rng = random.Random(7)
interests = [prefilter.Interest(["run", "get", "send", "update"]), prefilter.Interest(["delay_task", "cleanup", "notify", "sync"])]
checked = moved = mismatches = 0
for root in sorted(CORPUS.iterdir()):
    if not root.is_dir() or root.name.startswith("_"):
        continue
    for path in discovery.discover(root, discovery.DEFAULT_EXCLUDES):
        source = path.read_bytes()
        if not prefilter.mentions_celery(source):
            continue
        module, is_package = discovery.module_name(path, root)
        interest = rng.choice(interests)
        work = Work(source, discovery.relative_to(path, root), module, is_package, interest)
        before = summarise_one(work)
        dropped = slicing.slice_source(source, interest).dropped
        if before.record["fingerprint"] is None or not dropped:
            continue
        lines = source.splitlines(keepends=True)
        for _ in range(3):
            start, end = rng.choice(dropped)
            kind = rng.randrange(4)
            new = list(lines)
            if kind == 0:  # comment + blank lines before a cut range
                new[start - 1:start - 1] = [b"# fuzz\n", b"\n"] * rng.randint(1, 3)
            elif kind == 1:  # delete a cut range entirely (if it is not a block's only statement: may break syntax)
                del new[start - 1:end]
            elif kind == 2:  # change text inside a cut range (append a comment to its last line)
                new[end - 1] = new[end - 1].rstrip(b"\r\n") + b"  # fuzzed\n"
            else:  # blank lines at the end of a cut range
                new[end:end] = [b"\n"] * rng.randint(1, 4)
            edited = b"".join(new)
            if start <= 2:
                continue
            try:
                compile(edited, "x", "exec")
            except (SyntaxError, ValueError):
                continue
            checked += 1
            result = summarise_one(work._replace(source=edited, previous=(before.summary, before.record)))
            if not result.moved:
                continue
            moved += 1
            fresh = summarise_one(work._replace(source=edited))
            if (result.summary, result.record) != (fresh.summary, fresh.record):
                mismatches += 1
                print("MISMATCH", path, kind, start, end)
print(f"edits that still compile: {checked}, moved: {moved}, different from a fresh parse: {mismatches}")
sys.exit(1 if mismatches else 0)
