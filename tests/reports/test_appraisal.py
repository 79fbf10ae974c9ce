"""The appraisal (考核) against a hand-computed example (docs/appraisal.md works the same
numbers): two counties of 太原, one vetoed by a major incident; the weights as data, a set
that does not sum to 100 refused; the departments' appraisal; the ranking page, the
circular (HTML and PDF) and the API."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from inspections.models import Incident
from reports import appraisal
from reports.models import AppraisalScheme, AttainmentSnapshot
from sanling.kernel.errors import ServiceError
from supervision.models import ActionProgress, ActionTarget, Inspection, Rectification, SpecialAction, SpotCheck
from tests.factories import RegionFactory, UnitFactory, dept, make_incident
from units.models import AuditEvent, Level

pytestmark = pytest.mark.django_db


def snapshot(campaign, region, year, category, total, attained, target):
    rate = Decimal(attained) / Decimal(total) if total else Decimal(0)
    AttainmentSnapshot.objects.create(
        campaign=campaign,
        year=year,
        region=region,
        level=region.level,
        category=category,
        total_units=total,
        attained_units=attained,
        rate=rate,
        target_rate=target,
        met=None if target is None else rate >= target,
        computed_at=timezone.now(),
    )


@pytest.fixture
def example(tree, users, campaign):
    """小店区 (A) and 迎泽区 (B), both counties of 太原, in 2022 (2021 for the rise)."""
    a, t_a = tree.county, tree.t1
    b = RegionFactory(code="140106000000", name="迎泽区", level=Level.COUNTY, parent=tree.city)
    t_b = RegionFactory(code="140106001000", name="柳巷街道", level=Level.TOWNSHIP, parent=b)
    vc, ei = "village_community", "enterprise_institution"
    # attainment: A 8/10 against 0.9 and 4/4 against 0.8; B 5/5 against 0.9, no enterprises
    snapshot(campaign, a, 2022, vc, 10, 8, Decimal("0.9"))
    snapshot(campaign, a, 2022, ei, 4, 4, Decimal("0.8"))
    snapshot(campaign, a, 2021, vc, 10, 6, None)
    snapshot(campaign, a, 2021, ei, 4, 2, None)
    snapshot(campaign, b, 2022, vc, 5, 5, Decimal("0.9"))
    snapshot(campaign, b, 2022, ei, 0, 0, Decimal("0.8"))
    snapshot(campaign, b, 2021, vc, 5, 5, None)
    # tasks due in 2022 in A: 4, one of which went overdue; police lead two (one closed on
    # time, one overdue), emergency two (open); one due in 2023 does not count
    police, emergency = users.police.department, dept(a, "emergency")
    common = {"township": t_a, "leader": "甲", "opened_region": a}
    for title, lead, status, overdue, due in (
        ("按期销号", police, "closed", False, dt.date(2022, 5, 1)),
        ("逾期未改", police, "open", True, dt.date(2022, 6, 1)),
        ("应急一", emergency, "open", False, dt.date(2022, 12, 1)),
        ("应急二", emergency, "in_progress", False, dt.date(2022, 12, 2)),
        ("明年到期", emergency, "open", False, dt.date(2023, 1, 5)),
    ):
        Rectification.objects.create(
            title=title, lead_department=lead, status=status, overdue=overdue, deadline=due, **common
        )
    # spot checks of 2022 in A: over-scoring 5 and 0 → mean 2.5; a pending one and one of
    # 2021 do not count
    ins = Inspection.objects.create(
        region=a,
        campaign=campaign,
        year=2022,
        kind="ad_hoc",
        mode="announced",
        planned_on=dt.date(2022, 9, 1),
        inspectors="乙",
    )
    old = Inspection.objects.create(
        region=a,
        campaign=campaign,
        year=2021,
        kind="ad_hoc",
        mode="announced",
        planned_on=dt.date(2021, 9, 1),
        inspectors="乙",
    )
    for i, (self_final, inspector, status, inspection) in enumerate(
        (
            (95, 90, "confirmed", ins),
            (80, 85, "confirmed", ins),
            (100, 50, "pending", ins),
            (100, 40, "overturned", old),
        )
    ):
        SpotCheck.objects.create(
            inspection=inspection,
            unit=UnitFactory(township=t_a, name=f"抽查村{i}"),
            status=status,
            self_final=self_final,
            inspector_final=inspector,
        )
    # a special action led by the police: 10 patrols per county; A 5, B 10
    action = SpecialAction.objects.create(
        campaign=campaign,
        code="joint-prevention",
        name="社会治安联防联控行动",
        lead_kind="public_security",
        starts_on=dt.date(2020, 1, 1),
        ends_on=dt.date(2022, 12, 31),
    )
    patrols = ActionTarget.objects.create(action=action, code="patrols", name="联防巡逻", measure="count", target=10)
    for region, value in ((a, 5), (b, 10)):
        ActionProgress.objects.create(
            target=patrols,
            region=region,
            department=dept(region, "public_security"),
            as_of=dt.date(2022, 12, 1),
            value=value,
        )
    # incidents: B's major one in 2022 vetoes it; A's are dismissed, of 2021, or not major
    vetoing = make_incident(
        unit=UnitFactory(township=t_b, name="柳巷社区"), occurred_on=dt.date(2022, 5, 1), status="confirmed"
    )
    Incident.objects.filter(pk=vetoing.pk).update(severity="major", kind="public_safety")
    unit_a = UnitFactory(township=t_a, name="坞城村")
    for when, status, severity in (
        (dt.date(2022, 2, 1), "dismissed", "major"),
        (dt.date(2021, 7, 1), "confirmed", "especially_major"),
        (dt.date(2022, 3, 1), "confirmed", "larger"),
    ):
        i = make_incident(unit=unit_a, occurred_on=when, status=status)
        Incident.objects.filter(pk=i.pk).update(severity=severity)
    return {"a": a, "b": b, "vetoing": vetoing, "police": police, "emergency": emergency}


def test_the_formula_against_the_hand_computed_example(campaign, tree, example):
    ranking = appraisal.appraise(campaign, 2022, tree.city)
    assert [r.region.code for r in ranking] == [example["a"].code, example["b"].code]
    a, b = ranking
    # A: attainment ((8/10)/0.9 + 1)/2 = 0.9444; rise (12/14 − 8/14)/(1 − 8/14) = 2/3;
    # tasks 1 − 1/4 = 0.75; deviation 1 − 2.5/10 = 0.75; actions 5/10 = 0.5
    assert a.parts == {
        "attainment": Decimal("0.9444"),
        "rise": Decimal("0.6667"),
        "tasks": Decimal("0.7500"),
        "deviation": Decimal("0.7500"),
        "actions": Decimal("0.5000"),
    }
    # 40 × 0.94444 + 15 × 0.66667 + 15 × 0.75 + 15 × 0.75 + 15 × 0.5 = 77.78
    assert a.score == Decimal("77.78") and a.rank == 1 and not a.vetoed
    assert (a.facts["tasks"], a.facts["late_tasks"], a.facts["checks"]) == (4, 1, 2)
    # B would score 100, but a major incident in its year vetoes it: ranked after A, no rank
    assert b.score == Decimal("100.00") and b.vetoed and b.rank is None
    assert [i.pk for i in b.vetoes] == [example["vetoing"].pk]
    assert appraisal.laggards(ranking) == [b]
    assert [r.region for r in appraisal.commendation(campaign, 2022, tree.city, ranking)["regions"]] == [example["a"]]


def test_weights_are_data_and_must_sum_to_100(campaign, tree, users, example):
    with pytest.raises(ServiceError) as exc:
        appraisal.scheme_set(campaign=campaign, by=users.province, w_attainment=30)
    assert "权重之和为 90，应为 100" in str(exc.value)
    with pytest.raises(ServiceError) as exc:
        appraisal.scheme_set(campaign=campaign, by=users.province, dept_w_tasks="七十")
    assert "不是整数" in str(exc.value)
    with pytest.raises(ServiceError) as exc:
        appraisal.scheme_set(campaign=campaign, by=users.province, dept_w_tasks=70)
    assert "部门考核各项权重之和为 110" in str(exc.value)
    with pytest.raises(PermissionDenied):
        appraisal.scheme_set(campaign=campaign, by=users.city, w_attainment=40)  # not the campaign's level
    assert not AppraisalScheme.objects.exists()
    appraisal.scheme_set(
        campaign=campaign, by=users.province, w_attainment=50, w_rise=10, w_tasks=10, w_deviation=10, w_actions=20
    )
    event = AuditEvent.objects.get(action="appraisal.scheme")
    assert event.detail["before"]["w_attainment"] == "40" and event.detail["after"]["w_attainment"] == "50"
    a = appraisal.appraise(campaign, 2022, tree.city)[0]
    # 50 × 0.94444 + 10 × 0.66667 + 10 × 0.75 + 10 × 0.75 + 20 × 0.5 = 78.89
    assert a.score == Decimal("78.89")


def test_departments_are_appraised_on_their_tasks_and_actions(campaign, tree, example):
    rows = {d.department: d for d in appraisal.appraise_departments(campaign, 2022, tree.city)}
    police = rows[example["police"]]
    # 60 × (1 closed on time of 2) + 40 × (its action's completion in 小店区, 0.5) = 50
    assert (police.tasks, police.on_time, police.late, police.open) == (2, 1, 1, 1)
    assert police.actions == Decimal("0.5") and police.score == Decimal("50.00")
    emergency = rows[example["emergency"]]
    # no task closed on time, no action led: 60 × 0 + 40 × 1 = 40
    assert (emergency.tasks, emergency.on_time, emergency.actions, emergency.score) == (2, 0, None, Decimal("40.00"))


def test_ranking_page_circular_and_api(client, campaign, tree, users, example):
    client.force_login(users.city)
    q = {"campaign": campaign.slug, "year": 2022, "region": tree.city.code}
    page = client.get("/reports/appraisal/", q).content.decode()
    assert "迎泽区" in page and "一票否决" in page and f'data-veto="{example["vetoing"].pk}"' in page
    assert "77.78" in page and "部门考核" in page
    assert "考核方案" not in page  # the city cannot change the province campaign's weights
    circular = client.get("/reports/appraisal/circular.html", q).content.decode()
    assert "考核情况的通报" in circular and "考核一票否决" in circular and "柳巷社区" in circular
    pdf = client.get("/reports/appraisal/circular.pdf", q)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    api = client.get("/api/v1/appraisal/", q).json()
    assert [(r["region_code"], r["rank"], r["vetoed"]) for r in api["ranking"]] == [
        (example["a"].code, 1, False),
        (example["b"].code, None, True),
    ]
    assert api["ranking"][0]["score"] == 77.78 and api["weights"]["attainment"] == 40
    # a township officer has no appraisal; another city's staff not 太原's
    client.force_login(users.officer)
    assert client.get("/reports/appraisal/", q).status_code == 404
    client.force_login(users.city2)
    assert client.get("/reports/appraisal/", q).status_code == 404
    # the province sets the weights on its page; a bad set is shown, nothing stored
    client.force_login(users.province)
    bad = client.post(
        "/reports/appraisal/scheme/",
        {
            "campaign": campaign.slug,
            **dict.fromkeys(appraisal.REGION_WEIGHTS, "25"),
            "dept_w_tasks": "60",
            "dept_w_actions": "40",
            "deviation_zero": "10",
            "commend_regions": "3",
            "commend_units": "10",
        },
    )
    assert bad.status_code == 400 and "权重之和为 125" in bad.content.decode()
    assert not AppraisalScheme.objects.exists()
