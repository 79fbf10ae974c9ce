"""The departments the portal ships (行业部门) and which kind of unit each kind of
department supervises: each province, city and county gets its standard set, named as
Shanxi names them (山西省公安厅, 太原市公安局, 太原市公安局小店分局 …). Idempotent: a
rerun adds what is missing and changes nothing else; administrators add more in the admin."""

from __future__ import annotations

from django.db import transaction

from .models import Department, DepartmentKind, Level, Region, Sector, UnitKind

K = DepartmentKind

# (province, city, county) names, given the region's own name
NAMES = {
    K.POLITICAL_LEGAL: ("{r}委政法委", "{r}委政法委", "{r}委政法委"),
    K.PETITION: ("{r}信访局", "{r}信访局", "{r}信访局"),
    K.PUBLIC_SECURITY: ("{r}公安厅", "{r}公安局", None),  # a county's: see _police
    K.EMERGENCY: ("{r}应急管理厅", "{r}应急管理局", "{r}应急管理局"),
    K.JUSTICE: ("{r}司法厅", "{r}司法局", "{r}司法局"),
    K.CIVIL_AFFAIRS: ("{r}民政厅", "{r}民政局", "{r}民政局"),
    K.EDUCATION: ("{r}教育厅", "{r}教育局", "{r}教育局"),
    K.HEALTH: ("{r}卫生健康委员会", "{r}卫生健康委员会", "{r}卫生健康局"),
    K.TRANSPORT: ("{r}交通运输厅", "{r}交通运输局", "{r}交通运输局"),
    K.CULTURE_TOURISM: ("{r}文化和旅游厅", "{r}文化和旅游局", "{r}文化和旅游局"),
    K.ETHNIC_RELIGIOUS: ("{r}民族宗教事务委员会", "{r}民族宗教事务局", "{r}民族宗教事务局"),
    K.MARKET_REGULATION: ("{r}市场监督管理局", "{r}市场监督管理局", "{r}市场监督管理局"),
    K.HOUSING: ("{r}住房和城乡建设厅", "{r}住房和城乡建设局", "{r}住房和城乡建设局"),
    K.HUMAN_RESOURCES: ("{r}人力资源和社会保障厅", "{r}人力资源和社会保障局", "{r}人力资源和社会保障局"),
    K.AGRICULTURE: ("{r}农业农村厅", "{r}农业农村局", "{r}农业农村局"),
    K.NATURAL_RESOURCES: ("{r}自然资源厅", "{r}规划和自然资源局", "{r}自然资源局"),
    K.COURT: ("{r}高级人民法院", "{r}中级人民法院", "{r}人民法院"),
    K.PROCURATORATE: ("{r}人民检察院", "{r}人民检察院", "{r}人民检察院"),
}
LEVEL_INDEX = {Level.PROVINCE: 0, Level.CITY: 1, Level.COUNTY: 2}

# 行业部门监管: the unit kinds each department kind supervises
SECTORS = {
    UnitKind.VILLAGE: K.CIVIL_AFFAIRS,
    UnitKind.COMMUNITY: K.CIVIL_AFFAIRS,
    UnitKind.SCHOOL: K.EDUCATION,
    UnitKind.KINDERGARTEN: K.EDUCATION,
    UnitKind.HOSPITAL: K.HEALTH,
    UnitKind.STATION: K.TRANSPORT,
    UnitKind.AIRPORT: K.TRANSPORT,
    UnitKind.SCENIC_AREA: K.CULTURE_TOURISM,
    UnitKind.CULTURAL_RELIC: K.CULTURE_TOURISM,
    UnitKind.RELIGIOUS_SITE: K.ETHNIC_RELIGIOUS,
    UnitKind.MARKET: K.MARKET_REGULATION,
    UnitKind.ENTERPRISE_OUTLET: K.MARKET_REGULATION,
    UnitKind.ENTERPRISE: K.MARKET_REGULATION,
    UnitKind.FACTORY_MINE: K.EMERGENCY,
}


def _police(county: Region) -> str:
    """A city district's police is a branch of the city's (太原市公安局小店分局); a
    county's or county-level city's is its own (清徐县公安局)."""
    if county.name.endswith("区") and county.parent is not None and len(county.name) > 1:
        return f"{county.parent.name}公安局{county.name[:-1]}分局"
    return f"{county.name}公安局"


def department_name(region: Region, kind: str) -> str:
    if kind == K.PUBLIC_SECURITY and region.level == Level.COUNTY:
        return _police(region)
    return NAMES[kind][LEVEL_INDEX[region.level]].format(r=region.name)


@transaction.atomic
def load_sectors() -> int:
    existing = set(Sector.objects.values_list("unit_kind", flat=True))
    new = [Sector(unit_kind=u, department_kind=d) for u, d in SECTORS.items() if u not in existing]
    Sector.objects.bulk_create(new)
    return len(new)


@transaction.atomic
def load_departments(prefix: str = "") -> int:
    """Each province, city and county (under `prefix`) gets the standard set."""
    regions = list(
        Region.objects.filter(
            code__startswith=prefix, level__in=list(LEVEL_INDEX), valid_to__isnull=True
        ).select_related("parent")
    )
    existing = set(Department.objects.filter(region__in=regions).values_list("region_id", "kind"))
    new = [
        Department(region=r, kind=kind, name=department_name(r, kind))
        for r in regions
        for kind in NAMES
        if (r.code, kind) not in existing
    ]
    Department.objects.bulk_create(new, batch_size=2000)
    return len(new)
