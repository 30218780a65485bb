"""The worker pool returns every summary in the order asked, whether files are parsed here or in workers."""
from celery_lint.files import Interest
from celery_lint.parallel import PARALLEL_THRESHOLD, Summarizers, summarise_one


def work(count: int):
    # sizes differ so the pool's largest-first order differs from the order asked
    return [(b"from celery import shared_task\n" + b"x = 1\n" * (i % 7) + f"@shared_task\ndef t{i}():\n    pass\n".encode(),
             f"m{i}.py", f"m{i}", False, Interest(), None) for i in range(count)]


def test_in_process_below_the_threshold():
    workers = Summarizers(jobs=2)
    results = workers.run(work(3))
    assert workers._pool is None
    assert [(r["functions"][0]["name"], moved) for r, moved in results] == [("t0", False), ("t1", False), ("t2", False)]


def test_pool_keeps_the_order_asked():
    workers = Summarizers(jobs=2)
    try:
        results = [r for r, _ in workers.run(work(PARALLEL_THRESHOLD + 4))]
        assert workers._pool is not None
        assert [r["path"] for r in results] == [f"m{i}.py" for i in range(PARALLEL_THRESHOLD + 4)]
        assert [r["functions"][0]["name"] for r in results] == [f"t{i}" for i in range(PARALLEL_THRESHOLD + 4)]
        # once started (a cold run starts it early), the pool takes small rounds too
        assert [r["path"] for r, _ in workers.run(work(2))] == ["m0.py", "m1.py"]
    finally:
        workers.close()
    assert workers._pool is None


def test_a_summary_that_still_holds_is_moved_not_parsed():
    source, *rest, _ = work(4)[3]
    previous, moved = summarise_one((source, *rest, None))
    assert not moved
    edited = source.replace(b"@shared_task", b"# a note\n@shared_task")
    summary, moved = summarise_one((edited, *rest, previous))
    assert moved and summary["functions"][0]["line"] == previous["functions"][0]["line"] + 1
    decorator_changed = edited.replace(b"@shared_task", b"@shared_task(ignore_result=True)")
    summary, moved = summarise_one((decorator_changed, *rest, previous))
    assert not moved and summary["functions"][0]["decorators"][0]["kwargs"] == {"ignore_result": True}
