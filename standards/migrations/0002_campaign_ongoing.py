import json
from pathlib import Path

from django.db import migrations, models


def carry_on_shipped(apps, schema_editor):
    """Campaigns already loaded from the shipped data file go on as the file now says."""
    shipped = json.loads((Path(__file__).resolve().parent.parent / "data" / "campaigns.json").read_text("utf-8"))
    slugs = [c["slug"] for c in shipped if c.get("ongoing")]
    apps.get_model("standards", "Campaign").objects.filter(slug__in=slugs).update(ongoing=True)


class Migration(migrations.Migration):
    dependencies = [
        ("standards", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="campaign",
            name="ongoing",
            field=models.BooleanField(
                default=False, help_text="计划年度结束后逐年继续开展，直至当前年度", verbose_name="常态化开展"
            ),
        ),
        migrations.AddField(
            model_name="historicalcampaign",
            name="ongoing",
            field=models.BooleanField(
                default=False, help_text="计划年度结束后逐年继续开展，直至当前年度", verbose_name="常态化开展"
            ),
        ),
        migrations.RunPython(carry_on_shipped, migrations.RunPython.noop),
    ]
