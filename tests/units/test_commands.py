"""Provisioning accounts from the command line, as operators and scripts do."""

import pytest
from django.core.management import CommandError, call_command

from units.models import AuditEvent, User


def test_add_user_with_each_role(tree):
    for role, region in [
        ("township_officer", tree.t1),
        ("county_reviewer", tree.county),
        ("city_staff", tree.city),
        ("province_staff", tree.province),
        ("api_client", tree.city),
    ]:
        call_command("add_user", f"u-{role}", role=role, region=region.code, password="Qz8-sanling-pw")
        user = User.objects.get(username=f"u-{role}")
        assert (user.role, user.region_id) == (role, region.code) and user.check_password("Qz8-sanling-pw")
    call_command("add_user", "root", role="admin", password="Qz8-sanling-pw")
    assert User.objects.get(username="root").is_superuser
    assert AuditEvent.objects.filter(action="user.created").count() == 6


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"role": "township_officer", "region": "149999999000"}, "不存在"),
        ({"role": "township_officer", "region": "140105000000"}, "乡镇/街道级"),
        ({"role": "city_staff", "region": "140100000000", "password": "123"}, "密码"),
        ({"role": "api_client"}, "限定在一个区划"),
    ],
)
def test_add_user_refuses_bad_input(tree, kwargs, message):
    kwargs.setdefault("password", "Qz8-sanling-pw")
    with pytest.raises(CommandError, match=message):
        call_command("add_user", "bad", **kwargs)
    assert not User.objects.filter(username="bad").exists()
