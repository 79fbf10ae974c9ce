"""账号管理 without the Django admin: county, city and province staff keep the accounts of
the levels below them in their own region — people by their real names, deactivation,
a password reset shown once, and API clients' tokens (masked in lists, shown once when
issued). Every write is a units.services call: audited, jurisdiction checked there too."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from sanling.kernel.errors import ServiceError

from . import access, services
from .audit import client_ip
from .forms import add_errors, lookup
from .models import ApiToken, Department, Role, User


class AccountFilter(forms.Form):
    q = forms.CharField(label=gettext_lazy("姓名或账号"), required=False)
    role = forms.ChoiceField(label=gettext_lazy("角色"), required=False)
    region = forms.CharField(
        label=gettext_lazy("区划"), required=False, widget=lookup("/units/lookup/regions/", "region-options")
    )
    active = forms.ChoiceField(
        label=gettext_lazy("状态"),
        required=False,
        choices=[("1", gettext_lazy("在用")), ("0", gettext_lazy("已停用")), ("", gettext_lazy("全部"))],
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        roles = access.manageable_roles(user)
        self.fields["role"].choices = [("", gettext_lazy("全部"))] + [c for c in Role.choices if c[0] in roles]


class AccountForm(forms.Form):
    username = forms.RegexField(
        label=gettext_lazy("登录账号"),
        regex=r"^[A-Za-z0-9_.@+-]{3,150}$",
        error_messages={"invalid": gettext_lazy("登录账号为 3–150 位字母、数字或 _ . @ + -。")},
    )
    first_name = forms.CharField(label=gettext_lazy("姓名"), max_length=150)
    email = forms.EmailField(label=gettext_lazy("电子邮箱（接收通知）"), required=False)
    role = forms.ChoiceField(label=gettext_lazy("角色"))
    region = forms.CharField(
        label=gettext_lazy("管辖区划代码"),
        max_length=12,
        widget=lookup("/units/lookup/regions/", "region-options"),
        help_text=gettext_lazy("乡镇/街道工作人员填乡镇/街道代码，县级审核人员填县代码，以此类推"),
    )
    department = forms.ModelChoiceField(
        label=gettext_lazy("所属部门（行业部门工作人员）"), queryset=Department.objects.none(), required=False
    )
    password = forms.CharField(
        label=gettext_lazy("初始密码"),
        widget=forms.PasswordInput(render_value=False),
        help_text=gettext_lazy("至少 12 位，不能过于简单；请当面或电话告知本人，首次登录后自行修改"),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        roles = access.manageable_roles(user)
        self.fields["role"].choices = [c for c in Role.choices if c[0] in roles]
        prefix = access.region_prefix(user) or ""
        self.fields["department"].queryset = Department.objects.filter(
            region__code__startswith=prefix, active=True
        ).select_related("region")
        self.user = user

    def clean_region(self):
        code = self.cleaned_data["region"].strip()
        region = access.current_regions(self.user).filter(code=code).first()
        if region is None:
            raise ValidationError(_("区划代码 %(c)s 不存在或不在您的管辖范围内。") % {"c": code})
        return region

    def clean_username(self):
        name = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=name).exists():
            raise ValidationError(_("登录账号“%(u)s”已被使用。") % {"u": name})
        return name


class AccountEditForm(forms.Form):
    first_name = forms.CharField(label=gettext_lazy("姓名"), max_length=150)
    email = forms.EmailField(label=gettext_lazy("电子邮箱（接收通知）"), required=False)


def _live_tokens():
    return ApiToken.objects.filter(Q(expiry__isnull=True) | Q(expiry__gt=timezone.now()))


@login_required
def account_list(request):
    access.require(access.can_manage_accounts(request.user))
    form = AccountFilter(request.GET or None, user=request.user)
    qs = access.managed_accounts(request.user).select_related("region", "department")
    active = request.GET.get("active", "1")
    if form.is_valid():
        d = form.cleaned_data
        if d["q"]:
            qs = qs.filter(Q(first_name__icontains=d["q"]) | Q(username__icontains=d["q"]))
        if d["role"]:
            qs = qs.filter(role=d["role"])
        region = access.current_regions(request.user).filter(code=d["region"]).first() if d["region"] else None
        if region is not None:
            qs = qs.filter(region__code__startswith=region.prefix)
    if active in ("0", "1"):
        qs = qs.filter(is_active=active == "1")
    live = _live_tokens().order_by("-created")
    qs = qs.prefetch_related(Prefetch("auth_token_set", queryset=live, to_attr="live_tokens"))
    page = Paginator(qs.order_by("region__code", "role", "username"), 50).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "units/accounts.html",
        {
            "form": form,
            "page": page,
            "params": params.urlencode(),
            "can_tokens": access.can_manage_tokens(request.user),
        },
    )


@login_required
def account_create(request):
    access.require(access.can_manage_accounts(request.user))
    form = AccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        extra = {"first_name": d["first_name"], "email": d["email"]}
        if d["role"] == Role.DEPARTMENT_STAFF:
            extra["department"] = d["department"]
        try:
            user = services.user_create(
                username=d["username"],
                role=d["role"],
                region=d["region"],
                password=d["password"],
                by=request.user,
                **extra,
            )
        except (ValidationError, ServiceError) as exc:
            add_errors(form, exc)
        except PermissionDenied as exc:
            form.add_error("role", str(exc))
        else:
            messages.success(request, _("已新增账号“%(u)s”。") % {"u": user})
            return redirect("accounts:list")
    return render(request, "units/account_form.html", {"form": form, "title": _("新增账号")})


@login_required
def account_edit(request, pk: int):
    access.require(access.can_manage_accounts(request.user))
    account = access.account_for(request.user, pk)
    form = AccountEditForm(request.POST or None, initial={"first_name": account.first_name, "email": account.email})
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(user=account, by=request.user, ip=client_ip(request), **form.cleaned_data)
        except (ValidationError, ServiceError) as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("accounts:list")
    tokens = _live_tokens().filter(user=account).order_by("-created")
    return render(
        request,
        "units/account_form.html",
        {
            "form": form,
            "title": _("账号：%(u)s") % {"u": account},
            "account": account,
            "tokens": tokens,
            "can_tokens": access.can_manage_tokens(request.user) and account.role == Role.API_CLIENT,
        },
    )


@login_required
@require_POST
def account_active(request, pk: int):
    access.require(access.can_manage_accounts(request.user))
    account = access.account_for(request.user, pk)
    active = request.POST.get("active") == "1"
    services.user_set_active(user=account, active=active, by=request.user, ip=client_ip(request))
    messages.success(request, (_("已启用“%(u)s”。") if active else _("已停用“%(u)s”，其令牌已作废。")) % {"u": account})
    return redirect("accounts:edit", pk=account.pk)


@never_cache
@login_required
@require_POST
def account_password(request, pk: int):
    access.require(access.can_manage_accounts(request.user))
    account, password = services.user_password_reset(
        user=access.account_for(request.user, pk), by=request.user, ip=client_ip(request)
    )
    return render(
        request,
        "units/account_secret.html",
        {
            "account": account,
            "secret": password,
            "title": _("新密码"),
            "note": _("新密码只显示这一次，请告知本人并提醒其登录后修改。旧密码和该账号的令牌已失效。"),
        },
    )


@never_cache
@login_required
@require_POST
def account_token(request, pk: int):
    access.require(access.can_manage_tokens(request.user))
    account = access.account_for(request.user, pk)
    if request.POST.get("revoke"):
        services.token_revoke(username=account.username, by=request.user, ip=client_ip(request))
        messages.success(request, _("已作废“%(u)s”的全部令牌。") % {"u": account})
        return redirect("accounts:edit", pk=account.pk)
    try:
        account, raw = services.token_issue(username=account.username, by=request.user, ip=client_ip(request))
    except ServiceError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("accounts:edit", pk=account.pk)
    return render(
        request,
        "units/account_secret.html",
        {
            "account": account,
            "secret": raw,
            "title": _("接口令牌"),
            "note": _("令牌只显示这一次，平台只保存其摘要。请复制到接口客户端的配置中；旧令牌已作废。"),
        },
    )
