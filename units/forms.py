from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import access, auth
from .models import Level, Unit, UnitKind


def add_errors(form: forms.Form, exc: ValidationError) -> None:
    """A service's ValidationError on the form: each message under its field, or above
    the form when the field is not one of the form's."""
    errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
    for field, messages in errors.items():
        form.add_error(field if field in form.fields else None, messages)


def lookup(url: str, options: str, **extra) -> forms.TextInput:
    """A code field that searches as one types (htmx fills the <datalist id=options> the
    template holds from `url`: units.views.unit_lookup / region_lookup), showing each
    code's name; the jurisdiction is the lookup's."""
    return forms.TextInput(
        attrs={
            "list": options,
            "autocomplete": "off",
            "placeholder": _("输入代码或名称搜索"),
            "hx-get": url,
            "hx-trigger": "input changed delay:300ms",
            "hx-target": f"#{options}",
            **extra,
        }
    )


class UnitFilterForm(forms.Form):
    # searched as typed (a province has 1,500 counties and townships: no select of them all)
    region = forms.CharField(
        label=_("区划"), required=False, max_length=12, widget=lookup("/units/lookup/regions/", "region-options")
    )
    kind = forms.ChoiceField(label=_("类型"), required=False, choices=[("", _("全部"))] + UnitKind.choices)
    category = forms.ChoiceField(
        label=_("类别"),
        required=False,
        choices=[("", _("全部")), ("village_community", _("村（社区）")), ("enterprise_institution", _("企事业单位"))],
    )
    active = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("1", _("有效")), ("0", _("已归档")), ("", _("全部"))]
    )
    q = forms.CharField(label=_("搜索"), required=False, max_length=100)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_region(self):
        code = self.cleaned_data["region"].strip()
        if code and not access.visible_regions(self.user).filter(code=code).exists():
            raise ValidationError(_("区划代码 %(c)s 不存在或不在您的管辖范围内。") % {"c": code})
        return code


class UnitForm(forms.ModelForm):
    class Meta:
        model = Unit
        fields = ["township", "code", "name", "kind", "credit_code", "address", "contact_person", "contact_phone"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        townships = access.current_regions(user).filter(level=Level.TOWNSHIP).order_by("code")
        self.fields["township"].queryset = townships
        if self.instance.pk:
            # Code and township identify the unit; they are fixed once registered.
            self.fields["township"].disabled = True
            self.fields["code"].disabled = True
        elif townships.count() == 1:
            self.fields["township"].initial = townships.first()
        self.fields["kind"].error_messages["invalid_choice"] = _("未知的类型“%(value)s”。")

    def validate_unique(self):
        if self.has_error("code") or self.has_error("township"):
            return  # a code outside the township is refused as such, never as "taken"
        try:
            self.instance.validate_unique(exclude=self._get_validation_exclusions())
        except ValidationError:
            self.add_error("code", _("单位代码 %(code)s 已被登记。") % {"code": self.cleaned_data.get("code")})


class ImportForm(forms.Form):
    file = forms.FileField(label=_("登记表（.xlsx 或 .csv）"))

    def clean_file(self):
        """Refused by its size before anything reads it (parse_sheet checks again)."""
        from .imports import upload_size_error

        f = self.cleaned_data["file"]
        error = upload_size_error(f.size)
        if error:
            raise ValidationError(error, code="too_large")
        return f


class LimitedLogin:
    """A login form that asks units.auth first: over the address's limits, no password is
    checked and the form says why."""

    def clean(self):
        why = auth.refusal(self.request)
        if why:
            raise ValidationError(why, code="limited")
        return super().clean()


class LoginForm(LimitedLogin, AuthenticationForm):
    pass


class AdminLoginForm(LimitedLogin, AdminAuthenticationForm):
    pass
