# Create the Celery app whenever the package is imported, so that @shared_task
# tasks bind to it (the same pattern Celery documents for Django projects).
from .celery_app import app as celery_app

__all__ = ("celery_app",)
