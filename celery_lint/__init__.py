"""celery-lint: find Celery tasks whose stored results are never read, and fix them."""
__version__ = "0.1.0"
