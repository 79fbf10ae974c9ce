"""The audit trail: one append-only, hash-chained row per action (units.models.AuditEvent)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sanling.kernel.http import client_ip  # noqa: F401 - the one client address, re-exported for the apps

from .models import GENESIS, AuditEvent

# One chain, one writer at a time: the lock is held until the writing transaction ends,
# so the next row links to a committed one. (SQLite serialises writers itself: its
# transactions begin IMMEDIATE, settings.base.)
CHAIN_LOCK = 0x5A4E_4C47


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])


def audit(
    *, actor, action: str, target: models.Model | None = None, detail: dict | None = None, ip: str | None = None
) -> AuditEvent:
    user = actor if (actor is not None and actor.is_authenticated) else None
    with transaction.atomic():
        _lock_chain()
        prev = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first() or GENESIS
        ev = AuditEvent(
            at=timezone.now(),
            actor=user,
            actor_name=user.get_username() if user else "",
            action=action,
            target_type=target._meta.label_lower if target is not None else "",
            target_id=str(target.pk) if target is not None else "",
            detail=detail or {},
            # as the database will store it (IPv6 normalised), so the hash stays true
            ip=AuditEvent._meta.get_field("ip").get_prep_value(ip) or None,
            prev_hash=prev,
        )
        ev.hash = ev.compute_hash()
        ev.save(force_insert=True)
    return ev


@dataclass(frozen=True)
class Break:
    id: int
    reason: str


def verify_chain(*, chunk: int = 5000) -> Iterator[Break]:
    """Walk the trail in order; yield each row whose content no longer matches its hash
    or whose link does not name the row before it."""
    prev = GENESIS
    for ev in AuditEvent.objects.order_by("id").iterator(chunk_size=chunk):
        if ev.prev_hash != prev:
            yield Break(ev.id, "link: the row before it was changed, removed or inserted")
        if ev.compute_hash() != ev.hash:
            yield Break(ev.id, "content: the row was changed after it was written")
        prev = ev.hash


def axes_username(request, credentials) -> str | None:
    """Username for django-axes: from the authenticate() credentials (JSON API logins
    have no form POST), else from the login form."""
    if credentials and credentials.get("username"):
        return credentials["username"]
    return request.POST.get("username") if request is not None else None


def axes_lockout(request, original_response=None, credentials=None):
    """The lock-out answer: JSON in the API's error shape for API clients, the page otherwise."""
    from django.http import JsonResponse
    from django.shortcuts import render
    from django.utils.translation import gettext as _

    message = _("登录失败次数过多，账号已暂时锁定。请稍后再试或联系管理员解锁。")
    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": "locked_out", "message": message, "fields": {}}}, status=429)
    return render(request, "registration/locked_out.html", {"message": message}, status=429)


# How an audit action reads in the admin (the code stays the record's; unknown codes show
# as they are): the object first, then what happened to it.
ACTION_LABELS = {
    "auth.login": _("登录"),
    "auth.login_failed": _("登录失败"),
    "admin.added": _("管理后台新增"),
    "admin.changed": _("管理后台修改"),
    "admin.deleted": _("管理后台删除"),
    "admin.exported": _("管理后台导出"),
    "user.created": _("新增用户"),
    "user.deactivated": _("停用用户"),
    "user.activated": _("启用用户"),
    "user.updated": _("修改用户"),
    "user.password_reset": _("重置密码"),
    "token.issued": _("签发令牌"),
    "token.revoked": _("吊销令牌"),
    "region.created": _("新增区划"),
    "regions.loaded": _("导入区划"),
    "departments.loaded": _("导入部门"),
    "unit.registered": _("登记单位"),
    "unit.updated": _("修改单位"),
    "unit.moved": _("单位迁移"),
    "unit.imported": _("批量导入单位"),
    "unit.archived": _("归档单位"),
    "unit.restored": _("恢复单位"),
    "assessment.started": _("开始自评"),
    "assessment.submitted": _("提交自评"),
    "assessment.passed": _("审核通过并上报"),
    "assessment.approved": _("审核通过"),
    "assessment.returned": _("退回自评"),
    "assessment.overturned": _("抽查否定"),
    "assessment.reopened": _("重新审核"),
    "assessment.carried_over": _("按对应关系转换评估"),
    "evidence.removed": _("删除佐证材料"),
    "evidence.uploaded": _("上传佐证"),
    "incident.recorded": _("登记事件"),
    "incident.confirmed": _("确认事件"),
    "incident.dismissed": _("排除事件"),
    "incident.referred_up": _("认定须由上级解决"),
    "incident.resolution": _("登记化解情况"),
    "condition.confirmed": _("确认“零”条件"),
    "condition.revoked": _("撤销“零”条件"),
    "inspection.planned": _("安排检查"),
    "inspection.sampled": _("随机抽样"),
    "spot_check.confirmed": _("抽查确认"),
    "spot_check.overturned": _("抽查否定"),
    "rectification.opened": _("交办整改任务"),
    "rectification.started": _("开始整改"),
    "rectification.evidence": _("上传整改佐证"),
    "rectification.milestone": _("完成进度节点"),
    "rectification.reported": _("报告整改完成"),
    "rectification.closed": _("验收销号"),
    "rectification.reopened": _("退回重整"),
    "rectification.overdue": _("标记逾期"),
    "action.progress": _("填报专项行动进展"),
    "actions.loaded": _("导入专项行动"),
    "region_indicator.recorded": _("填报区域指标"),
    "appraisal.scheme": _("修改考核方案"),
    "rollup.requested": _("请求重算"),
    "rollup.deferred": _("重算延后"),
    "rollup.cancelled": _("取消重算"),
    "campaign.year_opened": _("开启创建年度"),
    "target.set": _("设置目标"),
    "result.closed": _("锁定年度结果"),
    "result.published": _("发文命名"),
    "result.amended": _("结果更正"),
    "result.revoked": _("摘牌"),
    "result.revocation_lifted": _("撤销摘牌"),
    "appeal.filed": _("提出申诉"),
    "appeal.upheld": _("申诉成立"),
    "appeal.rejected": _("申诉驳回"),
    "export.attainment": _("导出达标统计"),
    "export.township_ledger": _("导出单位台账"),
    "export.published_list": _("查看达标名单"),
    "export.rectifications": _("导出整改台账"),
    "export.named_list": _("导出命名名单"),
    "export.official_pdf": _("下载结果通知"),
    "export.appraisal_circular": _("下载考核通报"),
}


def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code, code))
