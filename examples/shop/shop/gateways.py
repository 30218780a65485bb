"""Stand-ins for the outside services a shop talks to (SMTP, push, warehouse API).

They only log, except that the mail server greylists: it refuses the first
delivery attempt of every message to greylisted.example, as real greylisting
servers do, so the e-mail tasks exercise their retry path.
"""
import logging
import threading

logger = logging.getLogger(__name__)

GREYLISTED_DOMAIN = "greylisted.example"


class MailServerBusy(Exception):
    """A temporary SMTP failure (4xx): try again later."""


_seen_messages = set()
_seen_lock = threading.Lock()


def send_email(to, subject, body):
    if to.endswith("@" + GREYLISTED_DOMAIN):
        with _seen_lock:
            first_attempt = (to, subject) not in _seen_messages
            _seen_messages.add((to, subject))
        if first_attempt:
            raise MailServerBusy(f"451 greylisted, try again later: {to}")
    logger.info("mail to %s: %s (%d chars)", to, subject, len(body))


def send_push(user_id, message):
    logger.info("push to user %s: %s", user_id, message)


def post_to_warehouse(order_id, lines):
    logger.info("warehouse: pick %d lines for order %s", len(lines), order_id)
