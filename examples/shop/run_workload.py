"""Simulated shop traffic against a running worker; prints every workflow value as JSON.

    SHOP_REDIS_URL=redis://127.0.0.1:6379/0 python run_workload.py --iterations 1000

Each iteration is one product page view; every 4th also places and ships an
order, every 10th refreshes a stock cache, and now and then a basket is quoted
(with a stock check), an export is polled or the nightly report runs.
Fire-and-forget tasks dominate, as in a real shop. The same iteration count
always gives the same values.
"""
import argparse
import datetime
import json
import time

from shop import views
from shop.orders import PRICES_CENTS
from shop.workflows import build_nightly_report

SKUS = sorted(PRICES_CENTS)
COUNTRIES = ["FR", "DE", "IE", "US"]
DOMAINS = ["example.com", "example.org", "greylisted.example"]
FIRST_DAY = datetime.date(2024, 3, 1)
POLL_TIMEOUT_S = 30


def make_order(i):
    user_id = i % 40
    return {
        "id": f"order-{i}",
        "user_id": user_id,
        "email": f"customer{user_id}@{DOMAINS[user_id % len(DOMAINS)]}",
        "country": COUNTRIES[i % len(COUNTRIES)],
        "lines": [{"sku": SKUS[i % len(SKUS)], "qty": 1 + i % 3}, {"sku": "socks", "qty": 2}],
    }


def make_basket(i):
    return [{"sku": SKUS[(i // 50 + n) % len(SKUS)], "qty": 1 + n} for n in range(3)]


def poll(fetch, is_done, what):
    """Call fetch() until is_done(value), like a browser polling a page."""
    deadline = time.monotonic() + POLL_TIMEOUT_S
    while True:
        value = fetch()
        if is_done(value):
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {POLL_TIMEOUT_S} s: last value {value!r}")
        time.sleep(0.05)


def export_month(month):
    task_id = views.start_export(month)
    return poll(lambda: views.poll_export(task_id), lambda page: page["state"] == "SUCCESS", f"export {month}")


def wait_for_report(day):
    # The report chain's result is discarded: read what its last task stored.
    return poll(lambda: views.sales_report(day), bool, f"report {day}")


def run(iterations):
    values = {"taxes_cents": [], "quotes": [], "exports": [], "reports": {}, "stock": []}
    report_days = []
    for i in range(iterations):
        views.product_page(i % 40, SKUS[i % len(SKUS)])
        if i % 4 == 0:
            order = make_order(i)
            values["taxes_cents"].append(views.checkout(order)["tax_cents"])
            views.ship_order(order)
        if i % 10 == 0:
            views.refresh_stock(SKUS[i % len(SKUS)])
        if i % 50 == 0:
            values["quotes"].append(views.quote_basket(make_basket(i)))
            values["stock"].append(views.stock_check(SKUS[i // 50 % len(SKUS)]))
        if i % 50 == 25:
            values["exports"].append(export_month(f"2024-{1 + i // 50 % 12:02d}"))
        if i % 100 == 0:
            day = (FIRST_DAY + datetime.timedelta(days=i // 100)).isoformat()
            build_nightly_report.delay(day)  # what beat sends each night, for a fixed day
            report_days.append(day)
    for day in report_days:
        values["reports"][day] = wait_for_report(day)
    return values


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=1000)
    args = parser.parse_args()
    print(json.dumps(run(args.iterations), sort_keys=True))


if __name__ == "__main__":
    main()
