"""The worker pool returns every summary in the order asked, whether files are parsed here or in workers."""
from celery_lint.speed.parallel import PARALLEL_THRESHOLD, Summarizers, Work, summarise_one
from celery_lint.speed.prefilter import Interest


def work(count: int):
    # sizes differ so the pool's largest-first order differs from the order asked
    return [Work(b"from celery import shared_task\n" + b"x = 1\n" * (i % 7) + f"@shared_task\ndef t{i}():\n    pass\n".encode(),
                 f"m{i}.py", f"m{i}", False, Interest()) for i in range(count)]


def test_in_process_below_the_threshold():
    workers = Summarizers(jobs=2)
    results = workers.run(work(3))
    assert workers._pool is None
    assert [(r.summary["functions"][0]["name"], r.moved) for r in results] == [("t0", False), ("t1", False), ("t2", False)]


def test_pool_keeps_the_order_asked():
    workers = Summarizers(jobs=2)
    try:
        results = [r.summary for r in workers.run(work(PARALLEL_THRESHOLD + 4))]
        assert workers._pool is not None
        assert [r["path"] for r in results] == [f"m{i}.py" for i in range(PARALLEL_THRESHOLD + 4)]
        assert [r["functions"][0]["name"] for r in results] == [f"t{i}" for i in range(PARALLEL_THRESHOLD + 4)]
        # once started (a cold run starts it early), the pool takes small rounds too
        assert [r.summary["path"] for r in workers.run(work(2))] == ["m0.py", "m1.py"]
    finally:
        workers.close()
    assert workers._pool is None


def test_a_summary_that_still_holds_is_moved_not_parsed():
    item = work(4)[3]
    first = summarise_one(item)
    assert not first.moved
    previous = (first.summary, first.record)
    edited = item.source.replace(b"@shared_task", b"# a note\n@shared_task")
    done = summarise_one(item._replace(source=edited, previous=previous))
    assert done.moved and done.summary["functions"][0]["line"] == first.summary["functions"][0]["line"] + 1
    decorator_changed = edited.replace(b"@shared_task", b"@shared_task(ignore_result=True)")
    done = summarise_one(item._replace(source=decorator_changed, previous=previous))
    assert not done.moved and done.summary["functions"][0]["decorators"][0]["kwargs"] == {"ignore_result": True}


def _named(results):
    return [r.summary["functions"][0]["name"] for r in results]


def test_more_work_asked_once_the_workers_have_their_first_files():
    """``more`` (phase two, found while the workers parse phase one) is asked for once; its files follow."""
    items = work(PARALLEL_THRESHOLD + 6)
    first, rest = items[:5], items[5:]
    asked = []

    def more():
        asked.append(workers._pool is not None)  # the pool already holds the first files
        return rest

    workers = Summarizers(jobs=2)
    workers.start()
    try:
        assert _named(workers.run(first, more)) == [f"t{i}" for i in range(len(items))]
        assert asked == [True]
        asked.clear()
        assert _named(workers.run([], lambda: asked.append(1) or items[:2])) == ["t0", "t1"]  # none to start with
        assert asked == [1]
    finally:
        workers.close()


def test_more_work_without_a_pool_is_taken_first():
    asked = []
    workers = Summarizers(jobs=2)
    assert _named(workers.run(work(2), lambda: asked.append(1) or work(3)[2:])) == ["t0", "t1", "t2"]
    assert asked == [1] and workers._pool is None  # three files: not worth a pool
    try:  # enough files in all: a pool after all
        assert _named(workers.run(work(2), lambda: work(PARALLEL_THRESHOLD + 2)[2:])) == [
            f"t{i}" for i in range(PARALLEL_THRESHOLD + 2)]
        assert workers._pool is not None
    finally:
        workers.close()
