"""Development (`make run`, manage.py's default): the embedded defaults — SQLite beside the
project, Celery tasks in-process — with DEBUG on unless DJANGO_DEBUG says otherwise."""

from ._dotenv import read_dotenv

read_dotenv()

import secrets  # noqa: E402

from .base import *  # noqa: E402, F403
from .base import BASE_DIR, env  # noqa: E402

# Off unless the development command asks for it (`make run` sets DJANGO_DEBUG=1): Django's
# technical error page shows the whole environment.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
if not SECRET_KEY:  # noqa: F405
    # A key of this checkout, made on first use and kept beside it (never committed):
    # nothing signed here can be forged with a key published in the code.
    _key_file = BASE_DIR / ".secret-key"
    if not _key_file.exists():
        _key_file.write_text(secrets.token_urlsafe(50))
        _key_file.chmod(0o600)
    SECRET_KEY = _key_file.read_text().strip()
