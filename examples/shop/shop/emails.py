from celery import shared_task

from . import gateways


@shared_task(autoretry_for=(gateways.MailServerBusy,), max_retries=3, default_retry_delay=0.1)
def send_order_confirmation(email, order_id, total_cents):
    gateways.send_email(
        email,
        f"Your order {order_id}",
        f"Thank you! We received your order, total {total_cents / 100:.2f} EUR.",
    )


@shared_task(bind=True, max_retries=3, default_retry_delay=0.1)
def send_shipping_notice(self, email, order_id):
    try:
        gateways.send_email(email, f"Order {order_id} has shipped", "It is on its way.")
    except gateways.MailServerBusy as exc:
        raise self.retry(exc=exc)
