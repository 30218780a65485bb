import calendar
import csv
import io

from .celery_app import app
from .orders import orders_placed_on, subtotal_cents
from .storage import redis_client

EXPORT_KEY = "shop:exports:{filename}"


def _month_days(month):
    year, month_number = map(int, month.split("-"))
    last_day = calendar.monthrange(year, month_number)[1]
    return [f"{month}-{day:02d}" for day in range(1, last_day + 1)]


@app.task
def export_orders_csv(month):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["order", "day", "subtotal_cents"])
    for day in _month_days(month):
        for order in orders_placed_on(day):
            writer.writerow([order["id"], day, subtotal_cents(order["lines"])])
    content = buffer.getvalue()
    filename = f"orders-{month}.csv"
    # A real shop would upload the file to object storage and return its URL.
    redis_client().set(EXPORT_KEY.format(filename=filename), content, ex=86400)
    return {"file": filename, "rows": content.count("\n") - 1, "bytes": len(content)}
