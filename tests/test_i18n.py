"""Chinese first, English available: the committed .mo matches the .po (a fresh machine
has no gettext to compile it), every string is translated, and pages switch language."""

import gettext
import re
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parent.parent / "locale"


def parse_po(path: Path) -> dict:
    """msgid -> msgstr (or tuple of plural forms), for translated, non-header entries."""
    entries = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):

        def field(name, block=block):
            m = re.search(rf'^{name} ((?:".*"\n?)+)', block + "\n", re.M)
            return (
                None
                if m is None
                else "".join(re.findall(r'"(.*)"', m.group(1)))
                .encode()
                .decode("unicode_escape")
                .encode("latin-1")
                .decode("utf-8")
            )

        msgid = field("msgid")
        if not msgid:
            continue
        if field("msgid_plural") is not None:
            entries[msgid] = (field(r"msgstr\[0\]"), field(r"msgstr\[1\]"))
        else:
            entries[msgid] = field("msgstr")
    return entries


@pytest.mark.parametrize("lang,least", [("en", 300), ("zh_Hans", 25)])
def test_mo_matches_po_and_all_translated(lang, least):
    """English for the portal's own strings; Chinese for third-party apps that ship none
    (django-axes' admin and lock-out)."""
    po = LOCALE / lang / "LC_MESSAGES" / "django.po"
    mo = LOCALE / lang / "LC_MESSAGES" / "django.mo"
    entries = parse_po(po)
    assert len(entries) > least
    with mo.open("rb") as f:
        catalog = gettext.GNUTranslations(f)
    untranslated = [k for k, v in entries.items() if not v or (isinstance(v, tuple) and not all(v))]
    assert untranslated == []
    stale = [
        k
        for k, v in entries.items()
        if (catalog.ngettext(k, k, 2) if isinstance(v, tuple) else catalog.gettext(k))
        != (v[1] if isinstance(v, tuple) else v)
    ]
    assert stale == [], f"{len(stale)} entries differ between django.po and django.mo: run `make messages`"


def test_pages_in_chinese_by_default_and_english_on_request(login, users):
    client = login(users.officer)
    assert "创建单位" in client.get("/units/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/units/"})
    html = client.get("/units/").content.decode()
    assert "Register unit" in html and "登记单位" not in html


def test_api_errors_follow_accept_language(client, users):
    resp = client.post(
        "/api/v1/auth/token/",
        {"username": "x", "password": "y"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert resp.json()["error"]["message"].startswith("Wrong username or password")


def test_the_admins_login_protection_pages_are_chinese(login, users):
    page = login(users.admin).get("/admin/axes/accessattempt/").content.decode()
    assert "登录尝试" in page and "Access attempts" not in page
