from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StandardsConfig(AppConfig):
    name = "standards"
    verbose_name = _("创建标准与活动")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from units.events import tree_changing

        from .kinds import forget_tree
        from .models import IncidentKindNode
        from .receivers import refuse_ending_a_scope

        tree_changing.connect(refuse_ending_a_scope, dispatch_uid="standards.scope_must_not_end")
        post_save.connect(forget_tree, sender=IncidentKindNode, dispatch_uid="standards.kind_tree.saved")
        post_delete.connect(forget_tree, sender=IncidentKindNode, dispatch_uid="standards.kind_tree.deleted")
        from .context import campaigns_changed
        from .models import Campaign

        post_save.connect(campaigns_changed, sender=Campaign, dispatch_uid="standards.menu.campaign_saved")
        post_delete.connect(campaigns_changed, sender=Campaign, dispatch_uid="standards.menu.campaign_deleted")
