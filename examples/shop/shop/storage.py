"""The shop keeps its own small records (reports, export files) in Redis."""
import functools

import redis

from .celery_app import REDIS_URL


@functools.lru_cache(maxsize=1)
def redis_client():
    return redis.Redis.from_url(REDIS_URL, decode_responses=True)
