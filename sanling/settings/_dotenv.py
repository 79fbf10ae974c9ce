"""The developer's or the host's `.env` beside the project, read into the environment
(values already set win). Read by the development and production settings before base;
never by the test settings, so a developer's .env cannot change what the tests see."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def read_dotenv() -> None:
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
