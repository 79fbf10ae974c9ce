from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UnitsConfig(AppConfig):
    name = "units"
    verbose_name = _("区划与单位")

    def ready(self):
        from . import auth, signals  # noqa: F401 - receivers
