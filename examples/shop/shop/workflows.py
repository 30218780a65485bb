import datetime

from celery import chain

from .celery_app import app
from .orders import compute_totals, fetch_orders, store_report


def start_nightly_report(day):
    """Start the report chain; its result is not needed, store_report saves the report."""
    chain(fetch_orders.s(day), compute_totals.s(), store_report.s()).apply_async()


@app.task
def build_nightly_report(day=None):
    # Run by celery beat (see beat_schedule in celery_app.py) for yesterday.
    if day is None:
        day = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    start_nightly_report(day)
