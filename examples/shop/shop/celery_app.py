import os

from celery import Celery
from celery.schedules import crontab

REDIS_URL = os.environ.get("SHOP_REDIS_URL", "redis://127.0.0.1:6379/0")

app = Celery(
    "shop",
    broker=REDIS_URL,
    include=[
        "shop.analytics",
        "shop.emails",
        "shop.notifications",
        "shop.orders",
        "shop.exports",
        "shop.workflows",
    ],
)

app.conf.update(
    result_backend=REDIS_URL,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    beat_schedule={
        "nightly-sales-report": {
            "task": "shop.workflows.build_nightly_report",
            "schedule": crontab(hour=2, minute=0),
        },
    },
)
