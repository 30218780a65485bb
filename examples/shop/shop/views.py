"""Plain functions standing in for the shop's web views."""
import json

from celery import chord, group
from celery.result import AsyncResult

from .analytics import track_event
from .celery_app import app
from .emails import send_order_confirmation, send_shipping_notice
from .exports import export_orders_csv
from .notifications import notify_warehouse, send_push
from .orders import PRICES_CENTS, REPORT_KEY, compute_tax, price_item, stock_level, subtotal_cents, summarise
from .storage import redis_client


def product_page(user_id, sku):
    track_event.delay(user_id, "product_viewed", {"sku": sku})
    return {"sku": sku, "price_cents": PRICES_CENTS[sku]}


def checkout(order):
    tax_cents = compute_tax.delay(order).get(timeout=10)
    total_cents = subtotal_cents(order["lines"]) + tax_cents
    send_order_confirmation.delay(order["email"], order["id"], total_cents)
    notify_warehouse.delay(order["id"], order["lines"])
    send_push.delay(order["user_id"], f"Order {order['id']} confirmed")
    track_event.delay(order["user_id"], "order_placed", {"order": order["id"]})
    return {"order": order["id"], "tax_cents": tax_cents, "total_cents": total_cents}


def ship_order(order):
    send_shipping_notice.delay(order["email"], order["id"])
    return {"order": order["id"], "status": "shipped"}


def quote_basket(lines):
    """Price every line in parallel and wait for the summary."""
    quote = chord(group(price_item.s(line) for line in lines))(summarise.s())
    return quote.get(timeout=10)


def start_export(month):
    # The browser keeps the task id and polls poll_export() until the file is ready.
    return export_orders_csv.delay(month).id


def poll_export(task_id):
    result = AsyncResult(task_id, app=app)
    state = result.state  # read once: the task may finish while this view runs
    return {"state": state, "result": result.result if state == "SUCCESS" else None}


def sales_report(day):
    stored = redis_client().get(REPORT_KEY.format(day=day))
    return json.loads(stored) if stored else None


def refresh_stock(sku):
    # After an order, warm the stock cache the product page reads: nobody waits for it.
    stock_level.delay(sku)


def stock_check(sku):
    """The basket page asks the warehouse itself, and waits."""
    return stock_level.delay(sku).get(timeout=10)
