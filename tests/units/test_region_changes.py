"""Recorded changes of the tree (units.changes): the Datong 2018 reorganisation leaves the
2017 figures as they were and gives later years the new tree; each kind of bad input is
refused whole; jurisdiction follows successors."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone

from reports import rollup
from reports.models import AttainmentSnapshot
from sanling.kernel.errors import ServiceError
from tests.factories import RegionFactory, UnitFactory, UserFactory, make_assessment, make_campaign, make_incident
from tests.reports import oracle
from units import access, history
from units.changes import Target, region_change
from units.models import (
    AuditEvent,
    ChangeKind,
    Level,
    Region,
    RegionChange,
    RegionName,
    Role,
    Unit,
    UnitState,
    User,
    credit_code_check_char,
    validate_credit_code,
)

THIS_YEAR = timezone.localdate().year
BASIS = "国务院关于同意山西省调整大同市部分行政区划的批复（2018年）"
DAY = dt.date(2018, 2, 24)


@pytest.fixture
def datong(db):
    """大同市 before 2018: 城区, 矿区, 南郊区 and 大同县, two townships each (real codes of
    the counties; township numbers as in the 2017 statistical codes' pattern)."""
    p = RegionFactory(code="140000000000", name="山西省", level=Level.PROVINCE)
    city = RegionFactory(code="140200000000", name="大同市", level=Level.CITY, parent=p)
    counties = {}
    for code, name, towns in [
        ("140202", "城区", ["南关街道", "北关街道"]),
        ("140203", "矿区", ["新平旺街道", "煤峪口街道"]),
        ("140211", "南郊区", ["口泉乡", "西韩岭乡"]),
        ("140227", "大同县", ["西坪镇", "倍加造镇"]),
    ]:
        county = RegionFactory(code=code + "000000", name=name, level=Level.COUNTY, parent=city)
        townships = [
            RegionFactory(code=f"{code}{i + 1:03d}000", name=t, level=Level.TOWNSHIP, parent=county)
            for i, t in enumerate(towns)
        ]
        counties[name] = SimpleNamespace(region=county, townships=townships)
    admin = UserFactory(username="admin_dt", role=Role.ADMIN, region=None, is_staff=True, is_superuser=True)
    return SimpleNamespace(province=p, city=city, counties=counties, admin=admin)


def _units_everywhere(datong, campaign, years):
    """Three villages and an enterprise per township; most attain, one has a case."""
    for c in datong.counties.values():
        for t in c.townships:
            for n in range(3):
                u = UnitFactory(township=t, kind="village")
                for y in years:
                    make_assessment(unit=u, campaign=campaign, year=y, status="approved" if n else "submitted")
            e = UnitFactory(township=t, kind="factory_mine")
            for y in years:
                make_assessment(unit=e, campaign=campaign, year=y, status="approved")
            make_incident(unit=e, occurred_on=dt.date(2017, 5, 1), status="confirmed")


def _reorganise(admin):
    """The 2018 reorganisation as four operations: 城区 becomes 平城区; one township of
    南郊区 moves to 平城区; 矿区 and the rest of 南郊区 merge into 云冈区; 大同县 is
    recoded as 云州区."""
    merge = dict(effective_on=DAY, basis=BASIS, by=admin)
    region_change(
        kind=ChangeKind.MERGE,
        sources=["140202000000"],
        targets=[Target("140213000000", "平城区", "140200000000")],
        **merge,
    )
    region_change(
        kind=ChangeKind.MOVE,
        sources=["140211002000"],
        targets=[Target("140213003000", "西韩岭乡", "140213000000")],
        **merge,
    )
    region_change(
        kind=ChangeKind.MERGE,
        sources=["140203000000", "140211000000"],
        targets=[Target("140214000000", "云冈区", "140200000000")],
        **merge,
    )
    region_change(
        kind=ChangeKind.RECODE,
        sources=["140227000000"],
        targets=[Target("140215000000", "云州区", "140200000000")],
        **merge,
    )


@pytest.fixture
def campaign_2017(datong, standard):
    c = make_campaign(scope=datong.province, standard=standard, slug="sanling-2017")
    c.start_year, c.end_year = 2017, 2019
    c.save(update_fields=["start_year", "end_year"])
    return c


def test_datong_2018_leaves_2017_as_it_was_and_later_years_use_the_new_tree(
    datong, campaign_2017, django_capture_on_commit_callbacks, eager_tasks
):
    campaign = campaign_2017
    _units_everywhere(datong, campaign, [2017, 2019])
    # given: 2017 counted on the old tree
    rollup.run(campaign_id=campaign.id, year=2017)
    before = oracle.assert_snapshot_matches(campaign, 2017)
    assert before[("140202000000", "village_community")]["total_units"] == 6
    ids_2017 = set(AttainmentSnapshot.objects.filter(campaign=campaign, year=2017).values_list("id", flat=True))

    # when: the four operations are recorded (their events recount 2018 and 2019)
    with django_capture_on_commit_callbacks(execute=True):
        _reorganise(datong.admin)

    # then: 2017 is exactly what it was, even recomputed in full
    assert oracle.stored(campaign, 2017) == before
    rollup.run(campaign_id=campaign.id, year=2017)
    assert oracle.stored(campaign, 2017) == before
    with override_settings(ROLLUP_BATCH_UNITS=2):  # … and counted in id ranges (units.history's two parts)
        rollup.run(campaign_id=campaign.id, year=2017)
    assert oracle.stored(campaign, 2017) == before
    assert {r[0] for r in before} >= {"140202000000", "140203000000", "140211000000", "140227000000"}
    assert not {r[0] for r in before} & {"140213000000", "140214000000", "140215000000"}
    assert ids_2017 == set(AttainmentSnapshot.objects.filter(campaign=campaign, year=2017).values_list("id", flat=True))
    # and 2019 (rolled up by the events) is the new tree, figure for figure
    after = oracle.assert_snapshot_matches(campaign, 2019)
    counties_2019 = {code for (code, _c), row in after.items() if row["level"] == Level.COUNTY}
    assert counties_2019 == {"140213000000", "140214000000", "140215000000"}
    assert after[("140213000000", "village_community")]["total_units"] == 9  # 城区 6 + 西韩岭乡 3
    assert after[("140214000000", "village_community")]["total_units"] == 9  # 矿区 6 + 口泉乡 3
    assert after[("140215000000", "village_community")]["total_units"] == 6
    assert after[("140200000000", "village_community")] == {
        **after[("140200000000", "village_community")],
        "total_units": 24,
    }
    # the tree of each day, and what became of the regions that ended
    end_2017 = history.regions_as_of(dt.date(2017, 12, 31)).filter(level=Level.COUNTY)
    assert sorted(end_2017.values_list("name", flat=True)) == ["南郊区", "城区", "大同县", "矿区"]
    now = history.regions_as_of(dt.date(2019, 12, 31)).filter(level=Level.COUNTY)
    assert sorted(now.values_list("name", flat=True)) == ["云冈区", "云州区", "平城区"]
    became = history.successors(["140211000000", "140227000000"], dt.date(2017, 12, 31))
    assert [r.name for r in became["140211000000"]] == ["云冈区"]
    assert [r.name for r in became["140227000000"]] == ["云州区"]
    # every township has one successor under the new prefix; units follow
    assert Unit.objects.filter(township__valid_to__isnull=False).count() == 0
    assert Region.objects.filter(code__startswith="140214", level=Level.TOWNSHIP, valid_to__isnull=True).count() == 3
    assert RegionChange.objects.filter(basis=BASIS).count() >= 4
    assert AuditEvent.objects.filter(action__startswith="region.").count() == 4


def test_each_operation_is_listed_with_its_sources_targets_and_author(datong):
    _reorganise(datong.admin)
    top = RegionChange.objects.filter(recorded_by=datong.admin, part_of=None).order_by("id")
    assert [c.kind for c in top] == ["merge", "move", "merge", "recode"]
    assert [sorted(c.sources.values_list("code", flat=True)) for c in top][2] == ["140203000000", "140211000000"]
    assert [list(c.targets.values_list("code", flat=True)) for c in top][3] == ["140215000000"]
    assert all(c.effective_on == DAY and c.basis == BASIS for c in top)
    # the townships of 城区 recoded under 平城区, listed with the merge they follow from
    assert sorted(top[0].consequences.values_list("kind", flat=True)) == ["recode", "recode"]
    assert all(c.recorded_by == datong.admin for c in top[0].consequences.all())
    for src in ("140202000000", "140203000000", "140211000000", "140227000000"):
        assert Region.objects.get(code=src).valid_to == dt.date(2018, 2, 23)


def test_units_keep_their_township_of_the_past(datong):
    unit = UnitFactory(township=datong.counties["城区"].townships[0])
    _reorganise(datong.admin)
    unit.refresh_from_db()
    assert unit.township_id == "140213001000"
    assert unit.state_since == DAY
    assert history.township_on(unit, dt.date(2017, 12, 31)) == "140202001000"
    assert history.township_on(unit, dt.date(2018, 12, 31)) == "140213001000"
    assert UnitState.objects.filter(unit=unit, valid_to=dt.date(2018, 2, 23)).count() == 1


def test_a_rename_keeps_the_old_name_for_the_years_before(datong):
    region_change(
        kind=ChangeKind.RENAME,
        effective_on=dt.date(2019, 1, 1),
        sources=["140227001000"],
        targets=[Target("140227001000", "西坪镇（新）")],
        basis="晋政函〔2018〕1号",
        by=datong.admin,
    )
    assert history.names_as_of(["140227001000"], dt.date(2018, 12, 31)) == {"140227001000": "西坪镇"}
    assert history.names_as_of(["140227001000"], dt.date(2019, 12, 31)) == {"140227001000": "西坪镇（新）"}
    assert RegionName.objects.get(region_id="140227001000").valid_to == dt.date(2018, 12, 31)


# --- jurisdiction follows successors -------------------------------------------------


def test_officers_move_to_the_successor_and_see_the_predecessors_past(datong, campaign_2017):
    old_township = datong.counties["城区"].townships[0]
    officer = UserFactory(username="nanguan", role=Role.TOWNSHIP_OFFICER, region=old_township)
    reviewer = UserFactory(username="chengqu", role=Role.COUNTY_REVIEWER, region=datong.counties["城区"].region)
    neighbour = UserFactory(
        username="xiping", role=Role.TOWNSHIP_OFFICER, region=datong.counties["大同县"].townships[0]
    )
    _units_everywhere(datong, campaign_2017, [2017])
    rollup.run(campaign_id=campaign_2017.id, year=2017)
    _reorganise(datong.admin)

    officer, reviewer, neighbour = (User.objects.get(pk=u.pk) for u in (officer, reviewer, neighbour))
    assert officer.region_id == "140213001000"
    assert reviewer.region_id == "140213000000"
    assert neighbour.region_id == "140215001000"
    # the successor township's officer sees the old township's 2017 row, not its neighbour's
    past = AttainmentSnapshot.objects.filter(campaign=campaign_2017, year=2017)
    seen = set(access.scope_regions(officer, past).values_list("region_id", flat=True))
    assert seen == {"140202001000"}
    assert access.can_see_region(officer, "140202001000")
    assert not access.can_see_region(officer, "140202002000")
    # the county's reviewer sees all of 城区's past, and none of 矿区's
    seen = set(access.scope_regions(reviewer, past).values_list("region_id", flat=True))
    assert seen == {"140202000000", "140202001000", "140202002000"}
    # a neighbour of another county sees none of it
    assert not set(access.scope_regions(neighbour, past).values_list("region_id", flat=True)) & seen
    # and the units: their own township's, now under the new code
    assert set(access.visible_units(officer).values_list("township_id", flat=True)) == {"140213001000"}


def test_a_merge_into_an_existing_region_gives_it_the_sources_past(datong):
    target = datong.counties["城区"].townships[0]
    officer = UserFactory(username="nanguan", role=Role.TOWNSHIP_OFFICER, region=target)
    unit = UnitFactory(township=datong.counties["城区"].townships[1])
    region_change(
        kind=ChangeKind.MERGE,
        effective_on=dt.date(2020, 1, 1),
        sources=["140202002000", "140202001000"],
        targets=[Target("140202001000", "南关街道")],
        basis="大政函〔2019〕9号",
        by=datong.admin,
    )
    officer.refresh_from_db()
    assert officer.region_id == "140202001000"
    assert access.region_prefixes(officer) == ["140202001", "140202002"]
    unit.refresh_from_db()
    assert unit.township_id == "140202001000"
    assert Region.objects.get(code="140202002000").valid_to == dt.date(2019, 12, 31)
    assert Region.objects.get(code="140202001000").valid_to is None


def test_a_split_assigns_units_and_officers(datong):
    source = datong.counties["大同县"].townships[1]
    officer = UserFactory(username="beijiazao", role=Role.TOWNSHIP_OFFICER, region=source)
    a, b = UnitFactory(township=source), UnitFactory(township=source)
    region_change(
        kind=ChangeKind.SPLIT,
        effective_on=dt.date(2020, 1, 1),
        sources=[source.code],
        targets=[
            Target("140227003000", "倍加造镇", "140227000000"),
            Target("140227004000", "周士庄镇", "140227000000"),
        ],
        units={a.code: "140227003000", b.code: "140227004000"},
        officers={"beijiazao": "140227004000"},
        basis="大政函〔2019〕10号",
        by=datong.admin,
    )
    a.refresh_from_db()
    b.refresh_from_db()
    officer.refresh_from_db()
    assert (a.township_id, b.township_id, officer.region_id) == ("140227003000", "140227004000", "140227004000")
    assert history.township_on(a, dt.date(2019, 12, 31)) == source.code
    # the officer of a successor sees the source's past
    assert source.prefix in access.region_prefixes(officer)


# --- bad input: refused whole, in the user's language ---------------------------------


def _nothing_changed(snapshot):
    assert snapshot == _state()


def _state():
    return (
        list(Region.objects.order_by("code").values_list("code", "name", "valid_from", "valid_to", "parent_id")),
        list(Unit.objects.order_by("id").values_list("id", "township_id", "state_since")),
        list(User.objects.order_by("id").values_list("id", "region_id")),
        RegionChange.objects.count(),
        RegionName.objects.count(),
        UnitState.objects.count(),
        AuditEvent.objects.filter(action__startswith="region.").count(),
    )


def _refused(datong, field, message_part, **change):
    before = _state()
    kw = {"effective_on": DAY, "basis": BASIS, "by": datong.admin, **change}
    with pytest.raises(ServiceError) as exc:
        region_change(**kw)
    messages = exc.value.message_dict[field]
    assert any(message_part in m for m in messages), messages
    _nothing_changed(before)


def test_sources_of_different_levels_are_refused(datong):
    _refused(
        datong,
        "sources",
        "同一层级",
        kind="merge",
        sources=["140202000000", "140203001000"],
        targets=[Target("140213000000", "平城区", "140200000000")],
    )


def test_a_target_code_that_breaks_the_prefix_rule_or_exists_is_refused(datong):
    # a county's code must end in six zeros
    _refused(
        datong,
        "targets",
        "全部为 0",
        kind="merge",
        sources=["140202000000", "140203000000"],
        targets=[Target("140213001000", "平城区", "140200000000")],
    )
    # the code of an existing township for a moved one
    _refused(
        datong,
        "targets",
        "已存在",
        kind="move",
        sources=["140211002000"],
        targets=[Target("140202001000", "西韩岭乡", "140202000000")],
    )
    # a county under a township
    _refused(
        datong,
        "targets",
        "上级区划层级不正确",
        kind="recode",
        sources=["140227000000"],
        targets=[Target("140215000000", "云州区", "140227001000")],
    )
    # a county code outside its city's prefix
    _refused(
        datong,
        "targets",
        "必须以上级“大同市”的前缀 1402 开头",
        kind="recode",
        sources=["140227000000"],
        targets=[Target("140315000000", "云州区", "140200000000")],
    )


def test_an_effective_date_before_the_region_existed_is_refused(datong):
    region_change(
        kind=ChangeKind.RECODE,
        effective_on=DAY,
        sources=["140227000000"],
        targets=[Target("140215000000", "云州区", "140200000000")],
        basis=BASIS,
        by=datong.admin,
    )
    _refused(
        datong,
        "effective_on",
        "设立日期 2018-02-24",
        kind="rename",
        effective_on=dt.date(2017, 6, 1),
        sources=["140215000000"],
        targets=[Target("140215000000", "云州")],
    )
    # and a region that has ended cannot change again
    _refused(
        datong,
        "sources",
        "已于 2018-02-23 撤销",
        kind="rename",
        sources=["140227000000"],
        targets=[Target("140227000000", "大同县")],
    )


def test_a_split_that_leaves_units_or_officers_unassigned_is_refused(datong):
    source = datong.counties["大同县"].townships[1]
    UserFactory(username="beijiazao", role=Role.TOWNSHIP_OFFICER, region=source)
    a, b = UnitFactory(township=source), UnitFactory(township=source)
    split = dict(
        kind="split",
        sources=[source.code],
        targets=[
            Target("140227003000", "倍加造镇", "140227000000"),
            Target("140227004000", "周士庄镇", "140227000000"),
        ],
    )
    _refused(datong, "units", b.code, units={a.code: "140227003000"}, officers={"beijiazao": "140227003000"}, **split)
    _refused(
        datong,
        "officers",
        "beijiazao",
        units={a.code: "140227003000", b.code: "140227004000"},
        officers={},
        **split,
    )
    # a unit assigned to a region that is not one of the targets
    _refused(
        datong,
        "units",
        a.code,
        units={a.code: "140202001000", b.code: "140227004000"},
        officers={"beijiazao": "140227003000"},
        **split,
    )


def test_an_unknown_kind_missing_basis_and_foreign_sources_are_refused(datong):
    _refused(datong, "kind", "未知的调整类型", kind="annex", sources=["140202000000"], targets=[])
    _refused(
        datong,
        "basis",
        "调整依据",
        kind="rename",
        basis="  ",
        sources=["140202000000"],
        targets=[Target("140202000000", "城")],
    )
    _refused(
        datong,
        "sources",
        "140299000000",
        kind="rename",
        sources=["140299000000"],
        targets=[Target("140299000000", "城")],
    )


def test_only_administrators_change_the_tree(datong):
    reviewer = UserFactory(username="chengqu", role=Role.COUNTY_REVIEWER, region=datong.counties["城区"].region)
    before = _state()
    with pytest.raises(PermissionDenied):
        region_change(
            kind="rename",
            effective_on=DAY,
            sources=["140202000000"],
            targets=[Target("140202000000", "城")],
            basis=BASIS,
            by=reviewer,
        )
    _nothing_changed(before)


# --- 统一社会信用代码 (GB 32100-2015) ------------------------------------------------------


@pytest.mark.parametrize("code", ["9144030071526726XG", "91330100799655058B", "91110000802100433B"])
def test_real_credit_codes_pass_their_check_character(code):
    assert credit_code_check_char(code[:17]) == code[17]
    validate_credit_code(code)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("9144030071526726XA", "校验码"),
        ("9144030071526726X", "18 位"),
        ("9144030071526726XI", "18 位"),
        ("9144O30071526726XG", "18 位"),
    ],
)
def test_a_wrong_credit_code_is_refused_with_its_reason(code, message):
    with pytest.raises(ValidationError) as exc:
        validate_credit_code(code)
    assert message in " ".join(exc.value.messages)


# --- the two forms of "the units of a day" agree ---------------------------------------


def test_units_as_of_and_its_parts_agree_on_every_day(datong):
    """units_as_of() (one queryset, for pages) and units_as_of_parts() (for the roll-up's
    query over every unit) give the same units with the same state, day by day, across
    moves, archives, re-kinds, a registration and a recode of the tree."""
    from units import services as unit_services

    towns = datong.counties["城区"].townships + datong.counties["大同县"].townships
    units = [UnitFactory(township=t, kind=k) for t in towns for k in ("village", "school")]
    unit_services.unit_move(unit=units[0], township=towns[2], by=datong.admin, effective_on=dt.date(2019, 3, 1))
    unit_services.unit_set_active(unit=units[1], active=False, by=datong.admin, effective_on=dt.date(2019, 6, 1))
    unit_services.unit_update(unit=units[2], kind="community", by=datong.admin, effective_on=dt.date(2020, 1, 1))
    unit_services.unit_set_active(unit=units[1], active=True, by=datong.admin, effective_on=dt.date(2021, 1, 1))
    unit_services.unit_register(township=towns[0], code="140202001777", name="新村", kind="village", by=datong.admin)
    region_change(
        kind=ChangeKind.RECODE,
        effective_on=dt.date(2020, 7, 1),
        sources=["140227000000"],
        targets=[Target("140215000000", "云州区", "140200000000")],
        basis=BASIS,
        by=datong.admin,
    )
    fields = ["id", *history.AS_OF.values()]
    for day in [dt.date(y, m, 1) for y in (2018, 2019, 2020, 2021, THIS_YEAR) for m in (1, 4, 7, 10)]:
        one = sorted(history.units_as_of(day).values_list(*fields))
        parts = sorted(row for part in history.units_as_of_parts(day) for row in part.values_list(*fields))
        assert one == parts, day
    assert len(history.units_as_of_parts(dt.date(2018, 1, 1))) == 2


# --- changes are recorded in the order they take effect ---------------------------------


def test_a_change_may_not_reach_back_before_a_later_one(datong):
    from units import services as unit_services

    town, other = datong.counties["城区"].townships
    unit = UnitFactory(township=town)
    unit_services.unit_move(unit=unit, township=other, by=datong.admin, effective_on=dt.date(2024, 1, 1))
    # a merge of the township dated before the unit left it would leave its 2023 state behind
    _refused(
        datong,
        "effective_on",
        "调整须按生效日期先后记录",
        kind="merge",
        effective_on=dt.date(2023, 1, 1),
        sources=[town.code],
        targets=[Target("140202009000", "新街道", "140202000000")],
    )
    # a rename dated before an earlier rename
    region_change(
        kind="rename",
        effective_on=dt.date(2023, 1, 1),
        sources=["140227001000"],
        targets=[Target("140227001000", "乙")],
        basis=BASIS,
        by=datong.admin,
    )
    _refused(
        datong,
        "effective_on",
        "已有 2023-01-01 生效的调整（更名）",
        kind="rename",
        effective_on=dt.date(2021, 1, 1),
        sources=["140227001000"],
        targets=[Target("140227001000", "丙")],
    )
    # and before a rename that came with a newer division list (load_regions)
    from units.regions import _rename

    _rename("140227002000", "倍加造镇", "倍加造新镇", dt.date(2025, 1, 1))
    _refused(
        datong,
        "effective_on",
        "已于 2025-01-01 更名",
        kind="rename",
        effective_on=dt.date(2024, 6, 1),
        sources=["140227002000"],
        targets=[Target("140227002000", "丁")],
    )
    # a recode of the county dated before that rename inside it
    _refused(
        datong,
        "effective_on",
        "2023-01-01 生效的调整",
        kind="recode",
        effective_on=dt.date(2022, 1, 1),
        sources=["140227000000"],
        targets=[Target("140215000000", "云州区", "140200000000")],
    )


def test_no_successor_under_a_parent_that_has_ended_or_into_a_region_not_yet_in_force(datong):
    region_change(
        kind="recode",
        effective_on=dt.date(2023, 1, 1),
        sources=["140227000000"],
        targets=[Target("140215000000", "云州区", "140200000000")],
        basis=BASIS,
        by=datong.admin,
    )
    # a new township under 大同县 (ended 2022-12-31), dated while it was still in force
    _refused(
        datong,
        "targets",
        "不是有效区划",
        kind="merge",
        effective_on=dt.date(2022, 6, 1),
        sources=["140202001000", "140202002000"],
        targets=[Target("140227009000", "新镇", "140227000000")],
    )
    # a split of a township into one that begins only later
    _refused(
        datong,
        "targets",
        "不能作为拆分后的区划",
        kind="split",
        effective_on=dt.date(2022, 6, 1),
        sources=["140203001000"],
        targets=[Target("140203005000", "甲", "140203000000"), Target("140215001000", "西坪镇")],
    )


def test_the_scope_of_an_active_campaign_cannot_end(datong, standard):
    campaign = make_campaign(scope=datong.counties["大同县"].region, standard=standard, slug="datongxian")
    _refused(
        datong,
        "sources",
        f"创建活动“{campaign.name}”的范围",
        kind="recode",
        sources=["140227000000"],
        targets=[Target("140215000000", "云州区", "140200000000")],
    )
    # nor a region above it; a rename is fine
    _refused(
        datong,
        "sources",
        "请先结束或调整该活动",
        kind="merge",
        sources=["140227000000", "140211000000"],
        targets=[Target("140215000000", "云州区", "140200000000")],
    )
    region_change(
        kind="rename",
        effective_on=DAY,
        sources=["140227000000"],
        targets=[Target("140227000000", "大同县（新）")],
        basis=BASIS,
        by=datong.admin,
    )


@pytest.mark.parametrize(
    ("day", "text"),
    [(dt.date(1, 1, 1), "早于 1949-10-01"), (dt.date(9999, 12, 31), "晚于今天")],
)
def test_a_day_outside_the_records_or_in_the_future_is_refused(datong, day, text):
    _refused(
        datong,
        "effective_on",
        text,
        kind="rename",
        effective_on=day,
        sources=["140202000000"],
        targets=[Target("140202000000", "城")],
    )


def test_repeated_codes_are_refused(datong):
    _refused(
        datong,
        "sources",
        "重复出现",
        kind="merge",
        sources=["140202000000", "140202000000"],
        targets=[Target("140213000000", "平城区", "140200000000")],
    )
    _refused(
        datong,
        "targets",
        "重复出现",
        kind="split",
        sources=["140203001000"],
        targets=[Target("140203005000", "甲", "140203000000"), Target("140203005000", "甲", "140203000000")],
        units={},
    )
