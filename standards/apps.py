from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StandardsConfig(AppConfig):
    name = "standards"
    verbose_name = _("创建标准与活动")

    def ready(self):
        from units.events import tree_changing

        from .receivers import refuse_ending_a_scope

        tree_changing.connect(refuse_ending_a_scope, dispatch_uid="standards.scope_must_not_end")
