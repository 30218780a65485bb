from . import gateways
from .celery_app import app


@app.task
def send_push(user_id, message):
    gateways.send_push(user_id, message)


@app.task
def notify_warehouse(order_id, lines):
    gateways.post_to_warehouse(order_id, lines)
