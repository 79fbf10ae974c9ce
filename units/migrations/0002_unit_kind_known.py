"""Only the known unit kinds. Before the constraint is added, existing rows are checked,
so a database holding some other kind stops here with the units to fix named, instead of
failing inside ALTER TABLE."""

from django.db import migrations, models

KINDS = ['village', 'community', 'school', 'kindergarten', 'hospital', 'scenic_area', 'market', 'factory_mine',
         'station', 'airport', 'religious_site', 'cultural_relic', 'enterprise_outlet', 'enterprise', 'institution']


def check_kinds(apps, schema_editor):
    Unit = apps.get_model("units", "Unit")
    bad = list(Unit.objects.exclude(kind__in=KINDS).values_list("code", "kind")[:20])
    if bad:
        raise RuntimeError(
            "units with an unknown kind; set each to one of the known kinds, then migrate again: "
            + ", ".join(f"{code} ({kind!r})" for code, kind in bad))


class Migration(migrations.Migration):

    dependencies = [
        ('units', '0001_initial'),
    ]

    operations = [
        migrations.RunPython(check_kinds, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='unit',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', KINDS)), name='unit_kind_known'),
        ),
    ]
