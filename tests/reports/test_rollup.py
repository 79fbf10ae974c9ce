"""The roll-up against the rule: hand-made cases, then a property test that builds
random small trees and compares every snapshot row with a brute-force computation."""

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspections.models import Assessment, UnitCondition
from reports import rollup
from reports.attainment import reasons_for
from reports.models import AttainmentHistory, AttainmentSnapshot
from standards.models import Target
from tests.factories import RegionFactory, UnitFactory, make_assessment, make_incident
from tests.reports import oracle
from units.models import Level

YEAR = 2022


def snap(campaign, code, category="village_community"):
    return AttainmentSnapshot.objects.get(campaign=campaign, year=YEAR, region_id=code, category=category)


def test_gap_formula():
    assert oracle.gap_units(Decimal("0.8"), 10, 7) == 1
    assert oracle.gap_units(Decimal("0.8"), 10, 8) == 0
    assert oracle.gap_units(Decimal("0.9"), 11, 9) == 1  # ceil(9.9) = 10
    assert oracle.gap_units(Decimal("0.8"), 5, 5) == 0
    assert oracle.gap_units(None, 5, 0) == 0


@pytest.mark.parametrize(
    "target,total,attained,gap,rate",
    [
        ("0.9", 11, 9, 1, "0.818182"),  # ceil(9.9) = 10
        ("0.8", 10, 8, 0, "0.8"),
        ("0.07", 100, 0, 7, "0"),  # in floating point 0.07 × 100 = 7.000000000000001
        ("0.57", 100, 0, 57, "0"),  # … and 0.57 × 100 = 56.99999999999999
        ("0.8", 3, 2, 1, "0.666667"),  # rate rounded half-up to 6 places
    ],
)
def test_gap_and_rate_in_the_statement_are_exact(tree, campaign, target, total, attained, gap, rate):
    # given: `total` villages in t1, `attained` of them attaining, t1's own target
    units = [UnitFactory(township=tree.t1) for _ in range(total)]
    for u in units[:attained]:
        make_assessment(unit=u, campaign=campaign, status="approved")
    Target.objects.create(
        campaign=campaign, region=tree.t1, category="village_community", year=YEAR, rate=Decimal(target)
    )
    # when
    rollup.run(campaign_id=campaign.id, year=YEAR)
    # then: the SQL computes the same exact figures as the rule
    row = snap(campaign, tree.t1.code)
    assert (row.total_units, row.attained_units, row.gap_units, row.met) == (total, attained, gap, gap == 0)
    assert row.rate == Decimal(rate)


def test_rollup_counts_every_level_and_target(tree, campaign, canary):
    # given: in t1 three villages (one attains, one short of the pass mark, one unassessed),
    # in t2 one attaining village, and the canary in another city attains too
    ok1 = UnitFactory(township=tree.t1)
    short = UnitFactory(township=tree.t1)
    UnitFactory(township=tree.t1)
    ok2 = UnitFactory(township=tree.t2)
    make_assessment(unit=ok1, campaign=campaign, status="approved")
    make_assessment(unit=short, campaign=campaign, status="approved", scores={"1.1": Decimal(20)})
    make_assessment(unit=ok2, campaign=campaign, status="approved")
    make_assessment(unit=canary, campaign=campaign, status="approved")
    # when
    rollup.run(campaign_id=campaign.id, year=YEAR)
    # then
    t1 = snap(campaign, tree.t1.code)
    assert (t1.total_units, t1.attained_units) == (3, 1)
    assert t1.target_rate == Decimal("0.8") and t1.met is False and t1.gap_units == 2  # ceil(2.4)=3 − 1
    county = snap(campaign, tree.county.code)
    assert (county.total_units, county.attained_units) == (4, 2)
    assert snap(campaign, tree.city.code).attained_units == 2
    prov = snap(campaign, tree.province.code)
    assert (prov.total_units, prov.attained_units) == (5, 3)
    assert prov.rate == Decimal("0.6")
    ei = snap(campaign, tree.province.code, "enterprise_institution")
    assert (ei.total_units, ei.attained_units, ei.met) == (0, 0, True)


def test_nearest_ancestor_target_and_own_target(tree, campaign):
    UnitFactory(township=tree.t1)
    Target.objects.create(
        campaign=campaign, region=tree.city, category="village_community", year=YEAR, rate=Decimal("0.5")
    )
    rollup.run(campaign_id=campaign.id, year=YEAR)
    assert snap(campaign, tree.t1.code).target_rate == Decimal("0.5")  # from the city
    assert snap(campaign, tree.canary_township.code).target_rate == Decimal("0.8")  # from the province


def test_incident_dismissed_and_other_year_and_kind(tree, campaign):
    # given: four approved full-score villages
    units = [UnitFactory(township=tree.t1) for _ in range(4)]
    for u in units:
        make_assessment(unit=u, campaign=campaign, status="approved")
    make_incident(unit=units[0], kind="criminal_case", occurred_on=dt.date(YEAR, 3, 1))
    make_incident(unit=units[1], kind="criminal_case", occurred_on=dt.date(YEAR, 3, 1), status="dismissed")
    make_incident(unit=units[2], kind="criminal_case", occurred_on=dt.date(YEAR - 1, 12, 31))
    make_incident(unit=units[3], kind="mass_incident", occurred_on=dt.date(YEAR, 5, 1))  # not a zero of this campaign
    # when
    rollup.run(campaign_id=campaign.id, year=YEAR)
    # then: only the confirmed/recorded incident of a campaign kind in that year revokes
    assert snap(campaign, tree.t1.code).attained_units == 3
    assert [r.code for r in reasons_for(units[0], campaign, YEAR)] == ["no_incident"]
    assert reasons_for(units[1], campaign, YEAR) == []


def test_veto_overturned_archived_and_reasons(tree, campaign):
    veto = UnitFactory(township=tree.t1)
    over = UnitFactory(township=tree.t1)
    archived = UnitFactory(township=tree.t1, active=False)
    make_assessment(unit=veto, campaign=campaign, status="approved", scores={"1.2": Decimal(29)})
    a = make_assessment(unit=over, campaign=campaign, status="overturned")
    Assessment.objects.filter(pk=a.pk).update(overturn_reason="材料造假")
    make_assessment(unit=archived, campaign=campaign, status="approved")
    rollup.run(campaign_id=campaign.id, year=YEAR)
    t1 = snap(campaign, tree.t1.code)
    assert (t1.total_units, t1.attained_units) == (2, 0)  # the archived unit is not counted
    veto_reasons = reasons_for(veto, campaign, YEAR)
    assert [r.code for r in veto_reasons] == ["veto"] and "1.2" in veto_reasons[0].text
    over_reasons = reasons_for(over, campaign, YEAR)
    assert over_reasons[0].code == "approved" and "材料造假" in over_reasons[0].text


def test_reasonable_omission_converts_to_100(tree, campaign):
    # An enterprise scores 85 of its 90 applicable points = 94.44 → attains with pass mark 85;
    # a village with 85 of 100 = 85.00 → attains exactly at the mark; 84.9 does not.
    ent = UnitFactory(township=tree.t1, kind="school")
    a = make_assessment(unit=ent, campaign=campaign, status="approved", scores={"1.1": Decimal(35)})
    assert a.max_score == 90 and a.final_score == Decimal("94.44")
    v85 = UnitFactory(township=tree.t1)
    make_assessment(unit=v85, campaign=campaign, status="approved", scores={"1.1": Decimal(25)})
    v849 = UnitFactory(township=tree.t1)
    make_assessment(unit=v849, campaign=campaign, status="approved", scores={"1.1": Decimal("24.9")})
    rollup.run(campaign_id=campaign.id, year=YEAR)
    assert snap(campaign, tree.t1.code).attained_units == 1  # 85.00 yes, 84.90 no
    assert snap(campaign, tree.t1.code, "enterprise_institution").attained_units == 1


def test_rerun_is_idempotent_and_replaces(tree, campaign):
    u = UnitFactory(township=tree.t1)
    assert rollup.run(campaign_id=campaign.id, year=YEAR) == 8 * 2  # rows written: every region × category
    before = list(AttainmentSnapshot.objects.values_list("region_id", "category", "attained_units").order_by("pk"))
    rollup.run(campaign_id=campaign.id, year=YEAR)
    after = list(AttainmentSnapshot.objects.values_list("region_id", "category", "attained_units").order_by("pk"))
    assert sorted(before) == sorted(after)
    make_assessment(unit=u, campaign=campaign, status="approved")
    rollup.run(campaign_id=campaign.id, year=YEAR)
    assert snap(campaign, tree.province.code).attained_units == 1


def at(day: int, hour: int = 10):
    """Pretend the clock reads 2022-06-<day> <hour>:00 in the portal's time zone."""
    moment = dt.datetime(2022, 6, day, hour, tzinfo=timezone.get_current_timezone())
    return mock.patch("django.utils.timezone.now", return_value=moment)


def history(campaign, code):
    return {
        h.day: h.attained_units
        for h in AttainmentHistory.objects.filter(
            campaign=campaign, year=YEAR, region_id=code, category="village_community"
        )
    }


def test_history_keeps_each_days_closing_figures(tree, campaign):
    # given: a unit that attains during the afternoon of 1 June
    u = UnitFactory(township=tree.t1)
    with at(1, 9):
        rollup.run(campaign_id=campaign.id, year=YEAR)
    make_assessment(unit=u, campaign=campaign, status="approved")
    with at(1, 15):
        rollup.run(campaign_id=campaign.id, year=YEAR)
    # then: during the day the snapshot carries the figures, history has no row yet
    assert snap(campaign, tree.province.code).attained_units == 1
    assert history(campaign, tree.province.code) == {}
    # when: the unit loses it on 2 June, and roll-ups run twice that day
    Assessment.objects.filter(unit=u).update(status="returned")
    with at(2, 8):
        rollup.run(campaign_id=campaign.id, year=YEAR)
    with at(2, 20):
        rollup.run(campaign_id=campaign.id, year=YEAR)
    # then: 1 June closed with the afternoon's figure, once, for every region and category
    assert history(campaign, tree.province.code) == {dt.date(2022, 6, 1): 1}
    assert history(campaign, tree.t1.code) == {dt.date(2022, 6, 1): 1}
    assert (
        AttainmentHistory.objects.filter(day=dt.date(2022, 6, 1)).count()
        == AttainmentSnapshot.objects.filter(campaign=campaign, year=YEAR).count()
    )
    # when: on 4 June, at 07:00 (still 3 June in UTC), only an incremental update runs
    Assessment.objects.filter(unit=u).update(status="approved")
    with at(4, 7):
        rollup.run_for_township(campaign_id=campaign.id, year=YEAR, township_code=tree.t1.code)
    # then: 2 June closed with its last figure, for every region (also those off the
    # updated path); no row is invented for the 3rd; days are the portal's local days
    assert history(campaign, tree.province.code) == {dt.date(2022, 6, 1): 1, dt.date(2022, 6, 2): 0}
    assert history(campaign, tree.t2.code) == {dt.date(2022, 6, 1): 0, dt.date(2022, 6, 2): 0}
    assert (
        AttainmentHistory.objects.filter(day=dt.date(2022, 6, 2)).count()
        == AttainmentSnapshot.objects.filter(campaign=campaign, year=YEAR).count()
    )
    assert snap(campaign, tree.province.code).attained_units == 1
    # when: the next write comes at 23:30 on 4 June (15:30 UTC) and another at 06:00 on the 5th
    with at(4, 23):
        rollup.run(campaign_id=campaign.id, year=YEAR)
    with at(5, 6):
        rollup.run(campaign_id=campaign.id, year=YEAR)
    # then: 4 June is closed under its local date
    assert dt.date(2022, 6, 4) in history(campaign, tree.province.code)
    assert dt.date(2022, 6, 3) not in history(campaign, tree.province.code)


def test_an_update_across_midnight_keeps_its_day(tree, campaign):
    # given: a roll-up on 1 June, and an update whose clock would read 23:59:59.999999 on
    # 1 June at first and 00:00 on 2 June from the next reading on
    u = UnitFactory(township=tree.t1)
    with at(1, 12):
        rollup.run(campaign_id=campaign.id, year=YEAR)
    make_assessment(unit=u, campaign=campaign, status="approved")
    tz = timezone.get_current_timezone()
    readings = iter([dt.datetime(2022, 6, 1, 23, 59, 59, 999999, tzinfo=tz)])
    with mock.patch(
        "django.utils.timezone.now", side_effect=lambda: next(readings, dt.datetime(2022, 6, 2, 0, 0, tzinfo=tz))
    ):
        rollup.run_for_township(campaign_id=campaign.id, year=YEAR, township_code=tree.t1.code)
    # when: the next write comes on 3 June
    with at(3):
        rollup.run(campaign_id=campaign.id, year=YEAR)
    # then: the update's figures closed 1 June, the day it read first; no 2 June is made up
    assert history(campaign, tree.province.code) == {dt.date(2022, 6, 1): 1}


def test_rows_of_regions_gone_from_scope_are_dropped(tree, campaign):
    # given: a snapshot of the whole province
    UnitFactory(township=tree.t1)
    rollup.run(campaign_id=campaign.id, year=YEAR)
    assert AttainmentSnapshot.objects.filter(region_id=tree.canary_township.code).count() == 2
    # when: the campaign's scope shrinks to one city and the roll-up runs again
    campaign.scope = tree.city
    campaign.save()
    rollup.run(campaign_id=campaign.id, year=YEAR)
    # then: exactly the city's subtree is left, two categories each
    left = set(AttainmentSnapshot.objects.filter(campaign=campaign, year=YEAR).values_list("region_id", "category"))
    city = {tree.city.code, tree.county.code, tree.t1.code, tree.t2.code}
    assert left == {(code, cat) for code in city for cat in campaign.categories}
    assert snap(campaign, tree.city.code).total_units == 1


def test_incremental_update_matches_full(tree, campaign):
    units = [UnitFactory(township=tree.t1) for _ in range(3)] + [UnitFactory(township=tree.t2)]
    rollup.run(campaign_id=campaign.id, year=YEAR)
    make_assessment(unit=units[0], campaign=campaign, status="approved")
    rollup.run_for_township(campaign_id=campaign.id, year=YEAR, township_code=tree.t1.code)
    incremental = {
        (s.region_id, s.category): (s.total_units, s.attained_units, s.gap_units)
        for s in AttainmentSnapshot.objects.filter(campaign=campaign, year=YEAR)
    }
    rollup.run(campaign_id=campaign.id, year=YEAR)
    full = {
        (s.region_id, s.category): (s.total_units, s.attained_units, s.gap_units)
        for s in AttainmentSnapshot.objects.filter(campaign=campaign, year=YEAR)
    }
    assert incremental == full
    assert full[(tree.province.code, "village_community")][1] == 1


def test_full_runs_follow_the_broken_units_as_incidents_come_and_go(tree, campaign):
    """The full run keeps its working set of broken units (ZeroBreak) from one run to the
    next: a unit broken, then cleared by a dismissal, another broken — each run counts as
    the rule does, as the oracle does."""
    from reports.models import ZeroBreak
    from tests.factories import figures

    a, b = (make_assessment(unit=UnitFactory(township=tree.t1), campaign=campaign, status="approved") for _ in range(2))
    first = make_incident(unit=a.unit, kind="homicide", occurred_on=dt.date(YEAR, 5, 1))
    rollup.run(campaign_id=campaign.id, year=YEAR)
    assert figures(campaign, tree.t1) == (2, 1)
    assert set(ZeroBreak.objects.values_list("unit_id", flat=True)) == {a.unit_id}
    first.status = "dismissed"
    first.save()
    make_incident(unit=b.unit, kind="criminal_case", occurred_on=dt.date(YEAR, 6, 1))
    make_incident(unit=b.unit, kind="homicide", occurred_on=dt.date(YEAR, 7, 1))  # two: still one unit
    rollup.run(campaign_id=campaign.id, year=YEAR)
    assert figures(campaign, tree.t1) == (2, 1)
    assert set(ZeroBreak.objects.values_list("unit_id", flat=True)) == {b.unit_id}
    oracle.assert_snapshot_matches(campaign, YEAR)
    # a run with nothing changed keeps the rows as they are (not deleted and inserted again)
    kept = set(ZeroBreak.objects.values_list("id", "unit_id"))
    rollup.run(campaign_id=campaign.id, year=YEAR)
    assert set(ZeroBreak.objects.values_list("id", "unit_id")) == kept
    # another year's set is its own
    rollup.run(campaign_id=campaign.id, year=2021)
    assert not ZeroBreak.objects.filter(year=2021).exists()
    assert ZeroBreak.objects.filter(year=YEAR).count() == 1


def test_rollup_query_count_does_not_grow_with_units(tree, campaign, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rollup.run(campaign_id=campaign.id, year=YEAR)  # the first run also creates its state row
    counts = []
    for _ in range(2):
        for _ in range(30):
            make_assessment(unit=UnitFactory(township=tree.t1), campaign=campaign, status="approved")
        with CaptureQueriesContext(connection) as ctx, django_assert_max_num_queries(25):
            rollup.run(campaign_id=campaign.id, year=YEAR)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts  # 30 units or 60: the same statements


# --- property test ---------------------------------------------------------------


unit_spec = st.fixed_dictionaries(
    {
        "township": st.integers(0, 2),
        "kind": st.sampled_from(["village", "community", "school", "factory_mine"]),
        "active": st.booleans(),
        "status": st.sampled_from([None, "draft", "submitted", "returned", "approved", "approved", "overturned"]),
        "scores": st.lists(
            st.sampled_from([Decimal(0), Decimal(5), Decimal("19.5"), None, "max"]), min_size=4, max_size=4
        ),
        "reviewer": st.booleans(),
        # 零盲区 for the year: none, confirmed, revoked by a spot check, confirmed for another year
        "grid": st.sampled_from([None, "confirmed", "revoked", "other_year"]),
        "incidents": st.lists(
            st.tuples(
                st.sampled_from(
                    ["criminal_case", "homicide", "petition", "collective_petition", "dispute", "mass_incident"]
                ),
                st.sampled_from([YEAR - 1, YEAR]),
                st.sampled_from(["recorded", "confirmed", "dismissed"]),
                st.booleans(),  # a petition only a higher level can decide
                st.sampled_from(["", "resolved", "escalated", "unresolved"]),
                st.sampled_from([None, dt.date(YEAR, 6, 30), dt.date(YEAR + 1, 1, 15)]),  # resolved on
            ),
            max_size=2,
        ),
    }
)


class _Rollback(Exception):
    pass


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    specs=st.lists(unit_spec, min_size=0, max_size=12),
    pass_mark=st.sampled_from([60, 85, 100]),
    zero_kinds=st.sampled_from([None, ["case", "petition", "dispute"], ["criminal_case", "accident"]]),
    conditions=st.sampled_from([[], ["grid_coverage"]]),
    batch=st.sampled_from([0, 1, 3]),  # one statement, or the units counted in id ranges
)
def test_rollup_matches_oracle(tree, campaign, specs, pass_mark, zero_kinds, conditions, batch):
    from django.test import override_settings

    try:
        with transaction.atomic(), override_settings(ROLLUP_BATCH_UNITS=batch):
            campaign.pass_mark = Decimal(pass_mark)
            if zero_kinds:
                campaign.zero_kinds = zero_kinds
            campaign.conditions = conditions
            campaign.save(update_fields=["pass_mark", "zero_kinds", "conditions"])
            townships = [tree.t1, tree.t2, tree.canary_township]
            items = {it.code: it for it in campaign.standard.items.all()}
            for spec in specs:
                unit = UnitFactory(township=townships[spec["township"]], kind=spec["kind"], active=spec["active"])
                if spec["status"]:
                    scores = {}
                    for code, s in zip(("1.1", "1.2", "2.1", "2.2"), spec["scores"], strict=True):
                        scores[code] = items[code].max_score if s == "max" else s
                    a = make_assessment(unit=unit, campaign=campaign, status=spec["status"], scores=scores, full=False)
                    if spec["reviewer"]:
                        # the reviewer raises 1.2 to full marks: the effective score changes
                        sc = a.scores.filter(item__code="1.2").first()
                        if sc:
                            sc.reviewer_score = items["1.2"].max_score
                            sc.save()
                            from inspections.scoring import rescore

                            rescore(a)
                if spec["grid"]:
                    UnitCondition.objects.create(
                        unit=unit,
                        kind="grid_coverage",
                        year=YEAR - 1 if spec["grid"] == "other_year" else YEAR,
                        status="revoked" if spec["grid"] == "revoked" else "confirmed",
                        confirmed_at=timezone.now(),
                    )
                for kind, year, status, higher, resolution, resolved_on in spec["incidents"]:
                    i = make_incident(unit=unit, kind=kind, occurred_on=dt.date(year, 6, 1), status=status)
                    type(i).objects.filter(pk=i.pk).update(
                        higher_level=higher, resolution=resolution, resolved_on=resolved_on if resolution else None
                    )
            RegionFactory(code="140105003000", name="空乡", level=Level.TOWNSHIP, parent=tree.county)
            rollup.run(campaign_id=campaign.id, year=YEAR)
            want = oracle.assert_snapshot_matches(campaign, YEAR)
            assert len(want) == 9 * 2  # every region of the tree (incl. the empty one) × 2 categories
            raise _Rollback
    except _Rollback:
        pass


@pytest.mark.parametrize("year", [2020, 2022])
def test_no_target_year_has_no_met(tree, campaign, year):
    UnitFactory(township=tree.t1)
    rollup.run(campaign_id=campaign.id, year=year)
    row = snap_year(campaign, tree.t1.code, year)
    assert (row.target_rate is None) == (year == 2020)
    assert (row.met is None) == (year == 2020)


def snap_year(campaign, code, year):
    return AttainmentSnapshot.objects.get(campaign=campaign, year=year, region_id=code, category="village_community")


# --- incremental updates through the services and their events -------------------

change_spec = st.one_of(
    st.tuples(
        st.sampled_from(["approve", "return", "overturn", "incident", "dismiss", "archive", "restore", "move"]),
        st.integers(0, 11),
    ),
    st.tuples(st.just("rekind"), st.integers(0, 11)),
    st.tuples(st.just("register"), st.integers(0, 2)),
)
SAME_CATEGORY = {"village": "community", "community": "village", "school": "factory_mine", "factory_mine": "school"}


THIS_YEAR = timezone.localdate().year


def _apply(change, units, townships, campaign, admin):
    """One change through its service, effective today (this year)."""
    from inspections import incidents
    from inspections import services as assessments
    from units import services as unit_services

    what, n = change
    if what == "register":
        code = UnitFactory.build(township=townships[n]).code
        units.append(
            unit_services.unit_register(township=townships[n], code=code, name="新登记", kind="village", by=admin)
        )
        return
    if not units:
        return
    unit = units[n % len(units)]
    unit.refresh_from_db()
    a = Assessment.objects.filter(unit=unit, campaign=campaign, year=THIS_YEAR).first()
    if what == "approve" and a and a.status == "submitted":
        assessments.assessment_approve(assessment=a, by=admin)
    elif what == "return" and a and a.status in ("submitted", "approved"):
        assessments.assessment_return(assessment=a, reason="材料不全", by=admin)
    elif what == "overturn" and a and a.status == "approved":
        assessments.assessment_overturn(assessment=a, reason="抽查不实", by=admin)
    elif what == "incident":
        incidents.incident_record(
            severity="general",
            unit=unit,
            kind="criminal_case",
            occurred_on=timezone.localdate(),
            description="盗窃",
            by=admin,
        )
    elif what == "dismiss":
        # this year's: dismissing an incident of 2022 is a judgment about 2022, which rightly
        # changes 2022 (the property is that today's changes of units do not reach back)
        inc = unit.incidents.filter(status="recorded", occurred_on__year=THIS_YEAR).first()
        if inc:
            incidents.incident_judge(incident=inc, status="dismissed", reason="不属实", by=admin)
    elif what in ("archive", "restore"):
        unit_services.unit_set_active(unit=unit, active=what == "restore", by=admin)
    elif what == "rekind":
        unit_services.unit_update(unit=unit, kind=SAME_CATEGORY[unit.kind], by=admin)
    elif what == "move":
        others = [t for t in townships if t.code != unit.township_id]
        unit_services.unit_move(unit=unit, township=others[n % len(others)], by=admin)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(specs=st.lists(unit_spec, min_size=1, max_size=10), changes=st.lists(change_spec, min_size=1, max_size=6))
def test_each_change_updates_this_year_and_leaves_a_past_year_as_it_was(
    tree, campaign, users, specs, changes, django_capture_on_commit_callbacks, eager_tasks
):
    """The strongest form of both rules: after every change of a random sequence — decided
    through its service, announced by its event, applied by the incremental update — this
    year's snapshot is what the oracle says, and 2022's is exactly what it was before any
    change (archives, new kinds, moves and registrations today do not reach back)."""
    try:
        with transaction.atomic():
            # given: a campaign running to this year, both years rolled up in full
            campaign.end_year = THIS_YEAR
            campaign.save(update_fields=["end_year"])
            townships = [tree.t1, tree.t2, tree.canary_township]
            units = []
            for spec in specs:
                unit = UnitFactory(township=townships[spec["township"]], kind=spec["kind"], active=spec["active"])
                units.append(unit)
                make_assessment(unit=unit, campaign=campaign, year=YEAR, status="approved")
                if spec["status"]:
                    make_assessment(unit=unit, campaign=campaign, year=THIS_YEAR, status=spec["status"])
                if spec["grid"]:
                    UnitCondition.objects.create(
                        unit=unit,
                        kind="grid_coverage",
                        year=YEAR - 1 if spec["grid"] == "other_year" else YEAR,
                        status="revoked" if spec["grid"] == "revoked" else "confirmed",
                        confirmed_at=timezone.now(),
                    )
                for kind, year, status, higher, resolution, resolved_on in spec["incidents"]:
                    i = make_incident(unit=unit, kind=kind, occurred_on=dt.date(year, 6, 1), status=status)
                    type(i).objects.filter(pk=i.pk).update(
                        higher_level=higher, resolution=resolution, resolved_on=resolved_on if resolution else None
                    )
            for year in (YEAR, THIS_YEAR):
                rollup.run(campaign_id=campaign.id, year=year)
            past = oracle.assert_snapshot_matches(campaign, YEAR)
            ids = dict(
                AttainmentSnapshot.objects.filter(
                    campaign=campaign, year=THIS_YEAR, category="village_community"
                ).values_list("region_id", "id")
            )
            # when: each change goes through its service; its event queues the incremental update
            for change in changes:
                with django_capture_on_commit_callbacks(execute=True):
                    _apply(change, units, townships, campaign, users.admin)
                # then: after each, this year is what the rule says, and 2022 stands
                oracle.assert_snapshot_matches(campaign, THIS_YEAR)
                assert oracle.stored(campaign, YEAR) == past
                rollup.run(campaign_id=campaign.id, year=YEAR)  # even recomputed in full
                assert oracle.stored(campaign, YEAR) == past
            # and no row of this year was replaced (ids stay)
            after = dict(
                AttainmentSnapshot.objects.filter(
                    campaign=campaign, year=THIS_YEAR, category="village_community"
                ).values_list("region_id", "id")
            )
            assert after == ids
            raise _Rollback
    except _Rollback:
        pass


def test_a_batched_run_reports_each_batch_rests_after_it_and_can_be_cancelled_between(tree, campaign, settings):
    """ROLLUP_BATCH_UNITS: the units counted in id ranges, progress after each range, a
    rest of ROLLUP_BATCH_PAUSE × the batch's time between two; a cancel between two
    batches rolls the run back."""
    units = [UnitFactory(township=t) for t in (tree.t1, tree.t2, tree.t1, tree.t2, tree.t1)]
    for u in units[:3]:
        make_assessment(unit=u, campaign=campaign, status="approved")
    rollup.run(campaign_id=campaign.id, year=YEAR)
    whole = oracle.assert_snapshot_matches(campaign, YEAR)
    settings.ROLLUP_BATCH_UNITS, settings.ROLLUP_BATCH_PAUSE = 2, 1.5
    seen = []
    with mock.patch("reports.rollup.time.sleep") as rest:
        rollup.run(campaign_id=campaign.id, year=YEAR, progress=lambda *step: seen.append(step))
    ids = sorted(u.pk for u in units)
    batches = len(range(ids[0], ids[-1] + 1, 2))
    assert [s for s in seen if s[0] == "count"] == [("count", i, batches) for i in range(batches + 1)]
    assert rest.call_count == batches - 1 and all(c.args[0] >= 0 for c in rest.call_args_list)
    assert oracle.assert_snapshot_matches(campaign, YEAR) == whole
    # cancelled after the second batch: the snapshot stays as the last run wrote it
    before = sorted(AttainmentSnapshot.objects.filter(campaign=campaign, year=YEAR).values_list("pk", "computed_at"))

    def cancel(phase, done, total):
        if phase == "count" and done == 2:
            raise rollup.Cancelled

    make_assessment(unit=units[3], campaign=campaign, status="approved")
    with pytest.raises(rollup.Cancelled):
        rollup.run(campaign_id=campaign.id, year=YEAR, progress=cancel)
    after = sorted(AttainmentSnapshot.objects.filter(campaign=campaign, year=YEAR).values_list("pk", "computed_at"))
    assert after == before
