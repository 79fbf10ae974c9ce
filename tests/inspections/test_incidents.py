"""Incidents: recorded and judged in the browser through the shared services; they break
attainment for their year only, not when dismissed, and only in campaigns naming the kind."""

import datetime as dt

import pytest
from django.utils import timezone

from inspections.models import Incident
from reports import rollup
from reports.attainment import reasons_for
from standards.models import Target
from tests.factories import UnitFactory, figures, make_assessment, make_campaign
from units.models import AuditEvent

YEAR = 2022


@pytest.fixture
def attained(tree, campaign):
    unit = UnitFactory(township=tree.t1, code="140105001777", name="杏花村")
    make_assessment(unit=unit, campaign=campaign, status="approved")
    return unit


def record(client, **data):
    return client.post(
        "/incidents/new/",
        {
            "unit_code": "140105001777",
            "kind": "criminal_case",
            "severity": "general",
            "occurred_on": f"{YEAR}-04-01",
            "description": "盗窃案",
            **data,
        },
    )


def test_officer_records_and_attainment_is_revoked_for_that_year_only(
    login, users, campaign, attained, django_capture_on_commit_callbacks
):
    rollup.run(campaign_id=campaign.id, year=YEAR)
    assert reasons_for(attained, campaign, YEAR) == [] and figures(campaign, attained.township) == (1, 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert record(login(users.officer)).status_code == 302
    assert [r.code for r in reasons_for(attained, campaign, YEAR)] == ["no_incident"]
    # the event reached the roll-up: the township's and the province's figures moved
    assert figures(campaign, attained.township) == (1, 0)
    assert figures(campaign, campaign.scope) == (1, 0)
    assert AuditEvent.objects.filter(action="incident.recorded").exists()
    make_assessment(unit=attained, campaign=campaign, year=2021, status="approved")
    assert reasons_for(attained, campaign, 2021) == []


def test_reviewer_dismisses_with_reason_and_attainment_returns(
    login, users, campaign, attained, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        record(login(users.officer))
    assert figures(campaign, attained.township) == (1, 0)
    inc = Incident.objects.get()
    reviewer = login(users.reviewer)
    reviewer.post(f"/incidents/{inc.pk}/judge/", {"status": "dismissed", "reason": ""})
    inc.refresh_from_db()
    assert inc.status == "recorded"  # a dismissal needs a reason
    with django_capture_on_commit_callbacks(execute=True):
        reviewer.post(f"/incidents/{inc.pk}/judge/", {"status": "dismissed", "reason": "经核实不属实"})
    inc.refresh_from_db()
    assert (inc.status, inc.reason, inc.judged_by) == ("dismissed", "经核实不属实", users.reviewer)
    assert reasons_for(attained, campaign, YEAR) == []
    assert figures(campaign, attained.township) == (1, 1)


@pytest.mark.parametrize(
    "data,message",
    [
        ({"occurred_on": (timezone.localdate() + dt.timedelta(days=3)).isoformat()}, "不能登记未来的事件"),
        ({"unit_code": "140213001999"}, "不在您的管辖范围内"),
        ({"kind": "meteor"}, "meteor"),
        ({"description": ""}, "该字段是必填项"),
    ],
)
def test_bad_input_refused_and_nothing_stored(login, users, attained, canary, data, message):
    resp = record(login(users.officer), **data)
    assert resp.status_code == 400 and message in resp.content.decode()
    assert Incident.objects.count() == 0


def test_officer_cannot_judge_and_ledger_is_scoped(login, users, attained, canary):
    record(login(users.officer))
    inc = Incident.objects.get()
    login(users.officer).post(f"/incidents/{inc.pk}/judge/", {"status": "dismissed", "reason": "x"})
    inc.refresh_from_db()
    assert inc.status == "recorded"
    Incident.objects.create(
        unit=canary, kind="criminal_case", occurred_on=dt.date(YEAR, 1, 1), description="金丝雀事件"
    )
    html = login(users.city).get("/incidents/").content.decode()
    assert "盗窃案" in html and "金丝雀事件" not in html


def test_five_zero_kinds_count_only_where_named(tree, campaign, standard, attained):
    # given: a 五零 campaign (homicide and dispute are zeros) over the same county
    wuling = make_campaign(
        scope=tree.county,
        standard=standard,
        slug="test-wuling",
        zero_kinds=[
            "petition",
            "public_safety",
            "production_safety",
            "criminal_case",
            "public_order_case",
            "homicide",
            "dispute",
        ],
    )
    Target.objects.filter(campaign=wuling).delete()
    make_assessment(unit=attained, campaign=wuling, status="approved")
    Incident.objects.create(unit=attained, kind="dispute", occurred_on=dt.date(YEAR, 6, 1), description="邻里纠纷")
    # then: an open dispute breaks 五零 (零纠纷) but not 三零
    assert reasons_for(attained, campaign, YEAR) == []
    assert [r.code for r in reasons_for(attained, wuling, YEAR)] == ["no_incident"]
    rollup.run(campaign_id=wuling.id, year=YEAR)
    rollup.run(campaign_id=campaign.id, year=YEAR)
    from reports.models import AttainmentSnapshot

    def attained_in(c):
        return AttainmentSnapshot.objects.get(
            campaign=c, year=YEAR, region=tree.t1, category="village_community"
        ).attained_units

    assert (attained_in(campaign), attained_in(wuling)) == (1, 0)
