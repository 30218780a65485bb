import datetime
import json

from .celery_app import app
from .storage import redis_client

PRICES_CENTS = {"mug": 1200, "tee": 2500, "cap": 1800, "poster": 900, "socks": 700}
VAT_PERCENT = {"FR": 20, "DE": 19, "IE": 23, "US": 0}
REPORT_KEY = "shop:report:{day}"


def subtotal_cents(lines):
    return sum(PRICES_CENTS[line["sku"]] * line["qty"] for line in lines)


def orders_placed_on(day):
    """The day's orders. Stands in for a database query: the same day always gives the same orders."""
    day_number = datetime.date.fromisoformat(day).toordinal()
    skus = sorted(PRICES_CENTS)
    return [
        {
            "id": f"{day}-{n}",
            "lines": [{"sku": skus[(day_number + n) % len(skus)], "qty": 1 + (day_number + n) % 3}],
        }
        for n in range(5)
    ]


@app.task
def compute_tax(order):
    return subtotal_cents(order["lines"]) * VAT_PERCENT[order["country"]] // 100


@app.task
def price_item(line):
    return PRICES_CENTS[line["sku"]] * line["qty"]


@app.task
def summarise(prices_cents):
    return {"items": len(prices_cents), "total_cents": sum(prices_cents)}


# The nightly report is a chain: each task's return value is the next one's argument.
@app.task
def fetch_orders(day):
    return {"day": day, "orders": orders_placed_on(day)}


@app.task
def compute_totals(fetched):
    orders = fetched["orders"]
    revenue = sum(subtotal_cents(order["lines"]) for order in orders)
    return {"day": fetched["day"], "orders": len(orders), "revenue_cents": revenue}


@app.task
def store_report(totals):
    redis_client().set(REPORT_KEY.format(day=totals["day"]), json.dumps(totals))
    return totals


# The product page shows the stock from a cache; the warehouse's API is slow.
STOCK_KEY = "shop:stock:{sku}"


@app.task
def stock_level(sku):
    units = 40 + len(sku) * 7 % 13
    redis_client().set(STOCK_KEY.format(sku=sku), units)
    return units
