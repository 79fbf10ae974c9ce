"""Recompute the fingerprint of every official result from its stored rows (and the
SHA-256 of each published PDF) and compare with the stored ones — after a restore, or
whenever in doubt. Exits non-zero on the first mismatch."""

import hashlib

from django.core.management.base import BaseCommand, CommandError

from reports import results
from reports.models import OfficialResult


class Command(BaseCommand):
    help = "Verify the fingerprints of the official results (and their published PDFs)."

    def handle(self, *args, **options):
        n = 0
        for result in OfficialResult.objects.select_related("campaign").order_by("campaign__slug", "year"):
            check = results.verify(result)
            if not check["ok"]:
                raise CommandError(
                    f"{result.campaign.slug} {result.year}: fingerprint {check['digest']} != stored {result.digest}"
                )
            if result.pdf:
                with result.pdf.open("rb") as f:
                    if hashlib.sha256(f.read()).hexdigest() != result.pdf_sha256:
                        raise CommandError(f"{result.campaign.slug} {result.year}: the published PDF was changed")
            self.stdout.write(f"{result.campaign.slug} {result.year} {result.status} {result.digest}")
            n += 1
        self.stdout.write(self.style.SUCCESS(f"official results intact: {n} results, every fingerprint verified"))
