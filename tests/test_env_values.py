"""Settings read from the environment: the value Celery sees by default, "unless the environment sets X"."""
from __future__ import annotations

import libcst as cst
import pytest

from celery_lint.analysis.env_values import env_schema, setting_value
from celery_lint.types import DYNAMIC

SCHEMA = env_schema(cst.parse_expression(
    'environ.Env(CELERY_RESULT_BACKEND=(str, "django-db"), CELERY_TASK_IGNORE_RESULT=(bool, True), DEBUG=bool)'))


@pytest.mark.parametrize("code,expected", [
    ('os.environ.get("X", "redis://")', {"env": "X", "default": "redis://"}),
    ('os.environ.get("X", None)', {"env": "X", "default": None}),
    ('os.getenv("X")', {"env": "X", "default": None}),
    ('env("CELERY_RESULT_BACKEND")', {"env": "CELERY_RESULT_BACKEND", "default": "django-db"}),  # the schema's
    ('env("CELERY_TASK_IGNORE_RESULT")', {"env": "CELERY_TASK_IGNORE_RESULT", "default": True}),
    ('env.bool("CELERY_TASK_IGNORE_RESULT")', {"env": "CELERY_TASK_IGNORE_RESULT", "default": True}),
    ('env.bool("X", default=False)', {"env": "X", "default": False}),
    ('env.bool("X", "yes")', {"env": "X", "default": True}),
    ('env.str("X", default="rpc://")', {"env": "X", "default": "rpc://"}),
    ('env.int("X", default="3600")', {"env": "X", "default": 3600}),
    ('env("X", default="0", cast=bool)', {"env": "X", "default": False}),
    ('config("X", default="True", cast=bool)', {"env": "X", "default": True}),
    ('config("X", default=None)', {"env": "X", "default": None}),
    ('ast.literal_eval(os.environ.get("X", "True"))', {"env": "X", "default": True}),
    ('literal_eval(os.getenv("X", "3600"))', {"env": "X", "default": 3600}),
    ('strtobool(os.environ.get("X", "no"))', {"env": "X", "default": False}),
    ('bool(int(os.environ.get("X", "1")))', {"env": "X", "default": True}),
    ('bool(int(os.environ.get("X", "0")))', {"env": "X", "default": False}),
    # no default anywhere: the environment must set it (or the settings fail to load): nothing to show
    ('env("X")', DYNAMIC),
    ('config("X", cast=bool)', DYNAMIC),
    ('env.bool("X")', DYNAMIC),
    # not a read of the environment, or a cast we cannot follow
    ('get_setting("X", True)', DYNAMIC),
    ('json.loads(os.environ.get("X", "true"))', DYNAMIC),
    ('env("X", default="x", cast=parse_thing)', DYNAMIC),
    ('"redis://"', "redis://"),
])
def test_the_default_celery_sees(code, expected):
    assert setting_value(cst.parse_expression(code), SCHEMA) == expected


def test_the_schema_keeps_each_variable_s_cast_and_default():
    assert SCHEMA == {"CELERY_RESULT_BACKEND": ("str", "django-db"), "CELERY_TASK_IGNORE_RESULT": ("bool", True)}
    assert env_schema(cst.parse_expression('environ.FileAwareEnv(X=(int, 3))')) == {"X": ("int", 3)}
    assert env_schema(cst.parse_expression('make(X=(int, 3))')) == {}
