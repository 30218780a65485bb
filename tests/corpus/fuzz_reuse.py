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
from celery_lint import files, reuse, summary  # noqa: E402

CORPUS = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CELERY_LINT_CORPUS") or REPO / ".corpus")
rng = random.Random(7)
interests = [files.Interest(["run", "get", "send", "update"]), files.Interest(["delay_task", "cleanup", "notify", "sync"])]
checked = moved = mismatches = 0
for root in sorted(CORPUS.iterdir()):
    if not root.is_dir() or root.name.startswith("_"):
        continue
    for path in files.discover(root, files.DEFAULT_EXCLUDES):
        source = path.read_bytes()
        if not files.mentions_celery(source):
            continue
        relative = files.relative_to(path, root)
        module, is_package = files.module_name(path, root)
        interest = rng.choice(interests)
        before = summary.summarize(source, relative, module, is_package, keep=interest)
        if before.fingerprint is None or not before.dropped:
            continue
        lines = source.splitlines(keepends=True)
        for _ in range(3):
            start, end = rng.choice(before.dropped)
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
            result = reuse.moved(before, edited, interest)
            if result is None:
                continue
            moved += 1
            fresh = summary.summarize(edited, relative, module, is_package, keep=interest)
            if result.to_json() != fresh.to_json():
                mismatches += 1
                print("MISMATCH", path, kind, start, end)
print(f"edits that still compile: {checked}, moved: {moved}, different from a fresh parse: {mismatches}")
sys.exit(1 if mismatches else 0)
