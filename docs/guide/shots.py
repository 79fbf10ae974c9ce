"""Screenshots for the user guides in docs/guide/ — reproducible.

    .venv/bin/python docs/guide/shots.py            # build the demo database, then shoot
    .venv/bin/python docs/guide/shots.py --reuse    # keep /tmp/guide.sqlite3 if it is there
    .venv/bin/python docs/guide/shots.py --only officer-worklist county-queue

1. builds a throwaway SQLite demo database at /tmp/guide.sqlite3 the way `make demo` does
   (real regions of Shanxi and Yunnan, the standards, departments, special actions,
   `seed_demo --units 600 --seed 1 --assessments --users`, `rollup --all`);
2. starts `manage.py runserver` on a free port of 127.0.0.1 (DJANGO_DEBUG=1, no reloader);
3. logs in as each demo account (password Sanling@2026) in headless Chromium (Debian's
   /usr/bin/chromium, driven by Playwright) and saves viewport PNGs into docs/guide/img/
   at 1366×768, and a few at phone width 390×844;
   Before shooting, it plays a little of a year through the pages, as the users would
   (once per database): the county returns one of the township's assessments and hands it
   a rectification task led by the police; the township registers a dispute. So the
   notifications, the task ledger and the incident ledger are not empty;
4. stops the server whatever happens.

The “零”条件 page exists only for a campaign with conditions: in the demo data that is
西山区“五零”创建 (Yunnan), so the script adds one more township account there, `xishan`;
and the special actions (八项行动) are Jinzhong's, so it adds `yuci`, the police of
Jinzhong's first county. Both with the demo password.

Chromium's own words (a file input's “选择文件”) come from Debian's chromium-l10n; without
it they are English. Nothing of the working tree is touched except docs/guide/img/.
"""
# ruff: noqa: S108, S603 - a throwaway database and log under /tmp; subprocesses of our own manage.py

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
IMG = Path(__file__).resolve().parent / "img"
DB = Path("/tmp/guide.sqlite3")
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
PASSWORD = "Sanling@2026"  # noqa: S105 - the printed demo password, demo data only
CHROMIUM = "/usr/bin/chromium"
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
SCREEN = {"width": 1920, "height": 1080}  # the big screen is made for it

ENV = {
    **os.environ,
    "DATABASE_URL": f"sqlite:///{DB}",
    "DJANGO_SETTINGS_MODULE": "sanling.settings.dev",
    "DJANGO_DEBUG": "1",
}

BUILD = [
    ["migrate", "--noinput"],
    ["load_regions", "--province", "14", "--province", "53"],
    ["load_standards"],
    ["load_departments"],
    ["load_actions"],
    ["seed_demo", "--units", "600", "--seed", "1", "--assessments", "--users"],
    ["rollup", "--all"],
]

# The objects the pages below need, found in the demo data (ids differ between seeds).
STORY_TASK = "演示：网格员巡查发现的消防通道堵塞"

FIND = r"""
import json
from django.utils import timezone
from inspections.models import Assessment
from standards.models import Campaign
from supervision.models import Rectification
from units.models import Region, Role, User
from units.services import user_create
from units.models import Department, DepartmentKind, Level
if not User.objects.filter(username="yuci").exists():
    jz = Region.objects.filter(level=Level.COUNTY, parent__code="140700000000").order_by("code").first()
    dept = Department.objects.get(region=jz, kind=DepartmentKind.PUBLIC_SECURITY)
    user_create(username="yuci", role=Role.DEPARTMENT_STAFF, region=jz, department=dept, password="Sanling@2026")
if not User.objects.filter(username="xishan").exists():
    t = Region.objects.filter(parent__code="530112000000").order_by("code").first()
    user_create(username="xishan", role=Role.TOWNSHIP_OFFICER, region=t, password="Sanling@2026")
officer = User.objects.get(username="officer")
county = User.objects.get(username="county")
year = timezone.localdate().year
mine = Assessment.objects.filter(unit__township=officer.region, year=year).order_by("unit__code")
def first(qs):
    a = qs.first()
    return a and {"pk": a.pk, "campaign": a.campaign.slug, "year": a.year}
out = {
    "year": year,
    "campaign": (mine.first() or Assessment.objects.filter(year=year).first()).campaign.slug,
    "draft": first(mine.filter(status="draft")) or first(mine.filter(status="returned")),
    "returned": first(mine.filter(status="returned")),
    "submitted": first(
        Assessment.objects.filter(
            unit__township__parent=county.region, status="submitted", review_level="county"
        ).exclude(unit__township=officer.region).order_by("-year", "unit__code")
    ),
    "to_return": first(mine.filter(status="submitted", review_level="county").order_by("-unit__code")),
    "unit_code": mine.values_list("unit__code", flat=True)[1],
    "story_done": Rectification.objects.filter(title=STORY_TASK).exists(),
    "police_dept": User.objects.get(username="police").department.name,
    "bigscreen": User.objects.get(username="bigscreen").pk,
    "officer_pk": officer.pk,
}
print("FIND" + json.dumps(out))
"""


def manage(*args, capture=False):
    cmd = [PY, "manage.py", *args]
    print("$", " ".join(cmd[1:]), flush=True)
    res = subprocess.run(cmd, cwd=ROOT, env=ENV, check=True, text=True, capture_output=capture)
    return res.stdout if capture else None


def build(reuse):
    if reuse and DB.exists():
        print(f"reusing {DB}")
        return
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{DB}{suffix}").unlink(missing_ok=True)
    for step in BUILD:
        manage(*step)


def find():
    code = f"STORY_TASK = {STORY_TASK!r}\n" + FIND
    print("$ manage.py shell -c <find the demo objects>", flush=True)
    out = subprocess.run(
        [PY, "manage.py", "shell", "-c", code], cwd=ROOT, env=ENV, check=True, text=True, capture_output=True
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("FIND"))
    return json.loads(line[4:])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server():
    port = free_port()
    log = open("/tmp/guide-runserver.log", "w")  # noqa: SIM115 - closed with the server
    proc = subprocess.Popen(
        [PY, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=ENV,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(url + "/accounts/login/", timeout=2)  # noqa: S310 - our own server
            return proc, url
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("runserver exited; see /tmp/guide-runserver.log") from None
            time.sleep(0.5)
    proc.terminate()
    raise SystemExit("runserver did not answer; see /tmp/guide-runserver.log")


# --- the shots ---------------------------------------------------------------------------


def qs(ids, **extra):
    params = {"campaign": ids["campaign"], "year": ids["year"], **extra}
    return "?" + "&".join(f"{k}={v}" for k, v in params.items())


def settle(page, ms=600):
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(ms)


def chart(page, selector):
    expect(page.locator(f"{selector} canvas").first).to_be_visible(timeout=15000)
    page.wait_for_timeout(1500)  # the chart's entry animation


def officer(shot, ids):
    yield shot("officer-worklist", "/assessments/" + qs(ids))
    if ids["draft"]:
        yield shot("officer-entry-end", f"/assessments/{ids['draft']['pk']}/edit/", scroll="end")
    yield shot("officer-incidents", "/incidents/")
    yield shot("officer-notifications", "/supervision/notifications/")
    yield shot("officer-phone-worklist", "/assessments/" + qs(ids), viewport=PHONE)
    if ids["draft"]:
        yield shot(
            "officer-phone-entry", f"/assessments/{ids['draft']['pk']}/edit/", viewport=PHONE, scroll="table.entry"
        )


def xishan(shot, ids):
    yield shot("officer-conditions", "/assessments/conditions/")


def county(shot, ids):
    yield shot("county-queue", "/assessments/queue/")
    if ids["submitted"]:
        yield shot("county-review", f"/assessments/{ids['submitted']['pk']}/review/", scroll="end")
    yield shot("county-incidents", "/incidents/")
    yield shot("county-tasks", "/supervision/rectifications/")
    yield shot("county-accounts", "/accounts/manage/")


def city(shot, ids):
    yield shot("city-dashboard", "/reports/" + qs(ids))
    yield shot("city-map", "/reports/" + qs(ids), scroll="#map-card", wait=lambda p: chart(p, "#chart-map"))
    yield shot("city-inspections", "/supervision/inspections/")
    yield shot("city-appraisal", "/reports/appraisal/")


def province(shot, ids):
    yield shot("province-screen", "/reports/screen/" + qs(ids), viewport=SCREEN, wait=lambda p: chart(p, "#screen-map"))
    yield shot("province-results", "/reports/results/")
    yield shot("province-years", "/campaigns/")


def education(shot, ids):
    yield shot("department-sector", "/reports/sector/")


def police(shot, ids):
    yield shot("department-tasks", "/supervision/rectifications/")


def yuci(shot, ids):
    yield shot("department-actions", "/supervision/actions/?campaign=jinzhong-sanzhi-sanling&year=" + str(ids["year"]))


def admin(shot, ids):
    yield shot("admin-accounts", "/accounts/manage/")
    yield shot("admin-account", f"/accounts/manage/{ids['bigscreen']}/")
    yield shot("admin-token", f"/accounts/manage/{ids['bigscreen']}/", act=issue_token)
    yield shot("admin-django", "/admin/")


def bigscreen(shot, ids):
    yield shot("api-home", "/")
    yield shot(
        "api-screen",
        "/reports/screen/" + qs(ids, region="140100000000"),
        viewport=SCREEN,
        wait=lambda p: chart(p, "#screen-map"),
    )


def log_in(browser, url, username):
    context = browser.new_context(locale="zh-CN", viewport=DESKTOP, timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.goto(url + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator("form[action$='/accounts/logout/']")).to_have_count(1)
    return context, page


def story(browser, url, ids):
    """A little of the year, through the pages: what makes the ledgers and notifications
    worth a picture. Each step checks the portal's own message."""
    import datetime

    today = datetime.datetime.now(tz=datetime.timezone(datetime.timedelta(hours=8))).date()  # Asia/Shanghai
    ctx, page = log_in(browser, url, "county")
    if ids["to_return"]:
        page.goto(f"{url}/assessments/{ids['to_return']['pk']}/review/")
        page.fill("textarea[name=reason]", "2.2 网格员巡查记录只有上半年的，请补充下半年记录后重新提交。")
        page.click("button[name=action][value=return]")
        expect(page.locator(".messages")).to_contain_text("已退回")
    page.goto(url + "/supervision/rectifications/new/")
    page.fill("input[name=unit_code]", ids["unit_code"])
    page.fill("input[name=title]", STORY_TASK)
    page.fill("textarea[name=description]", "督导中发现小区 3 号楼消防通道被杂物堵塞，需清理并建立巡查制度。")
    page.select_option("select[name=source]", "hazard")
    page.fill("input[name=leader]", "王建国")
    lead = page.locator("select[name=lead_department] option", has_text=ids["police_dept"]).first.get_attribute("value")
    page.select_option("select[name=lead_department]", lead)
    page.fill("input[name=deadline]", (today + datetime.timedelta(days=25)).isoformat())
    page.fill(
        "textarea[name=milestones]",
        f"{(today + datetime.timedelta(days=7)).isoformat()} 清理杂物\n"
        f"{(today + datetime.timedelta(days=20)).isoformat()} 建立每周巡查制度",
    )
    page.click("button[type=submit].primary")
    expect(page.locator(".messages")).to_contain_text("已交办整改任务")
    ctx.close()

    ctx, page = log_in(browser, url, "officer")
    page.goto(url + "/incidents/")
    page.fill("input[name=unit_code]", ids["unit_code"])
    page.select_option("select[name=kind]", "dispute")
    page.fill("input[name=occurred_on]", (today - datetime.timedelta(days=10)).isoformat())
    page.fill("textarea[name=description]", "两户村民因宅基地边界发生纠纷，村调委会正在调解。")
    page.click("form[action$='/incidents/new/'] button[type=submit]")
    expect(page.locator(".messages")).to_contain_text("已登记")
    ctx.close()


def issue_token(page):
    page.once("dialog", lambda d: d.accept())
    page.click("button:has-text('签发新令牌')")
    page.wait_for_load_state()
    expect(page.locator("main")).to_contain_text("bigscreen")


ROLES = {
    "officer": officer,
    "xishan": xishan,
    "county": county,
    "city": city,
    "province": province,
    "education": education,
    "police": police,
    "yuci": yuci,
    "admin": admin,
    "bigscreen": bigscreen,
}


def shrink(path, viewport, most=190 * 1024):
    """Keep the PNGs small: the big screen (shot at 1920×1080, its size) is scaled to
    1366 wide; any PNG still over ~190 KB is saved with a 256-colour palette (octree: it
    keeps the few colours of a map legend that median cut merges)."""
    from PIL import Image

    img = Image.open(path)
    if viewport["width"] > DESKTOP["width"]:
        img = img.resize((DESKTOP["width"], round(img.height * DESKTOP["width"] / img.width)), Image.LANCZOS)
        img.save(path, optimize=True)
    if path.stat().st_size > most:
        img.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(path, optimize=True)


def shoot(url, ids, only):
    IMG.mkdir(parents=True, exist_ok=True)
    taken, problems = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            env={**os.environ, "LANG": "zh_CN.UTF-8", "LANGUAGE": "zh_CN"},  # the browser's own words
            args=[
                "--no-sandbox",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--lang=zh-CN",
            ],
        )
        try:
            if not ids["story_done"]:
                story(browser, url, ids)
            for username, plan in ROLES.items():
                context, page = log_in(browser, url, username)

                def shot(name, path, viewport=DESKTOP, scroll=None, wait=None, act=None, page=page):
                    return name, path, viewport, scroll, wait, act, page

                for name, path, viewport, scroll, wait, act, page in plan(shot, ids):
                    if only and name not in only:
                        continue
                    page.set_viewport_size(viewport)
                    response = page.goto(url + path)
                    settle(page)
                    if act:
                        act(page)
                        settle(page)
                    if wait:
                        wait(page)
                    if scroll == "end":
                        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
                        page.wait_for_timeout(300)
                    elif scroll and page.locator(scroll).count():
                        page.locator(scroll).first.scroll_into_view_if_needed()
                        page.evaluate("window.scrollBy(0, -60)")
                        page.wait_for_timeout(300)
                    out = IMG / f"{name}.png"
                    page.screenshot(path=str(out))
                    shrink(out, viewport)
                    status = response.status if response else "?"
                    print(f"  {name:<24} {path:<60} {status} {out.stat().st_size // 1024} KB", flush=True)
                    taken.append(name)
                    if status != 200:
                        problems.append(f"{name}: {path} answered {status}")
                context.close()
        finally:
            browser.close()
    return taken, problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reuse", action="store_true", help="keep an existing /tmp/guide.sqlite3")
    parser.add_argument("--only", nargs="*", default=[], help="names of the shots to take again")
    args = parser.parse_args()
    build(args.reuse)
    ids = find()
    print("demo objects:", ids)
    proc, url = start_server()
    try:
        taken, problems = shoot(url, ids, set(args.only))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    print(f"{len(taken)} screenshots in {IMG.relative_to(ROOT)}")
    for p in problems:
        print("PROBLEM", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
