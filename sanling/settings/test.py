from .base import *  # noqa: F403

SECRET_KEY = "test-only-not-a-secret"  # noqa: S105 - the test settings' own key

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
AXES_ENABLED = True
AXES_VERBOSE = False
LOGGING = {"version": 1, "disable_existing_loggers": False, "loggers": {"axes": {"level": "WARNING"}}}
