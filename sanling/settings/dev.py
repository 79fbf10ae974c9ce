"""Development (`make run`, manage.py's default): the embedded defaults — SQLite beside the
project, Celery tasks in-process — with DEBUG on unless DJANGO_DEBUG says otherwise."""

from ._dotenv import read_dotenv

read_dotenv()

from .base import *  # noqa: E402, F403
from .base import env  # noqa: E402

DEBUG = env.bool("DJANGO_DEBUG", default=True)
