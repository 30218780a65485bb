import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task
def track_event(user_id, name, properties):
    # A real shop would forward this to its analytics service.
    logger.info("event %s from user %s: %s", name, user_id, properties)
