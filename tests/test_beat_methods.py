"""Beat entries a ``Celery`` subclass registers in its methods, and ``on_after_configure`` handlers: each makes
its task enqueued by beat, whose result nobody reads. Both analysis paths."""
from __future__ import annotations

from conftest import lint

APP = """
    from celery import Celery
    from celery.schedules import crontab


    class MyCelery(Celery):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.on_after_configure.connect(self._setup_beat)
            self.conf.update(beat_schedule={"b": {"task": "proj.tasks.by_update", "schedule": 30}})

        def _setup_beat(self, sender, **kwargs):
            from proj import tasks
            sender.add_periodic_task(crontab(minute=0), tasks.by_sender.s())
            self.add_periodic_task(60.0, tasks.by_self.signature())
            self.add_periodic_task(schedule=60.0, sig=tasks.by_keyword.s(1))

        def setup_schedule(self):
            from proj.tasks import by_name_attribute, polled
            self.conf.beat_schedule = {
                "nightly": {"task": by_name_attribute.name, "schedule": crontab(hour=1)},
                "polled": {"task": polled.name, "schedule": 10},
            }
            self.conf["beat_schedule"]["weekly"] = {"task": "proj.tasks.by_subscript", "schedule": 7}


    app = MyCelery("proj", backend="redis://")


    @app.on_after_configure.connect
    def setup_periodic(sender, **kwargs):
        from proj.tasks import by_handler, bare
        sender.add_periodic_task(3600.0, by_handler.s(), name="hourly")
        sender.add_periodic_task(3600.0, bare)
"""
NAMES = ["by_update", "by_sender", "by_self", "by_keyword", "by_name_attribute", "polled", "by_subscript",
         "by_handler", "bare", "payload"]
TASKS = "from proj.app import app\n" + "".join(
    f"\n\n@app.task\ndef {name}():\n    return 1\n" for name in NAMES)
VIEWS = """
    from proj.tasks import payload, polled


    def view():
        return polled.delay().get(timeout=5)


    def describe():
        return {"task": payload.name, "queue": "default"}  # not a beat entry: no schedule
"""


def test_beat_entries_of_a_celery_subclass_and_its_handlers(project):
    root = project({"proj/app.py": APP, "proj/tasks.py": TASKS, "proj/views.py": VIEWS})
    lines = {name: 4 + 5 * i for i, name in enumerate(NAMES)}
    assert lint(root) == [
        f"proj/tasks.py:{lines[name]}:1: CEL001 result of task 'proj.tasks.{name}' is stored but never read "
        f"(enqueued at 1 place); add ignore_result=True"
        for name in NAMES if name not in ("polled", "payload")]
