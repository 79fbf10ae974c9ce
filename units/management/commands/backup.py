"""A backup of everything the portal keeps: the PostgreSQL database (pg_dump, custom
format) and the evidence files (MEDIA_ROOT as a tar.gz), with a manifest that records
their SHA-256, the audit trail's length and its last hash — so a restore can be checked
against what was backed up (docs/security.md, "Backups")."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from units.models import AuditEvent


def pg_tool(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise CommandError(f"{name} not found: apt-get install postgresql-client")
    return found


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Command(BaseCommand):
    help = "Back up the database (pg_dump) and the evidence files into --out, with a manifest."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="directory for the backup files")

    def handle(self, *args, out, **options):
        if connection.vendor != "postgresql":
            raise CommandError("backup runs on PostgreSQL (the embedded SQLite file is copied as it is)")
        out_dir = Path(out)
        out_dir.mkdir(parents=True, exist_ok=True)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        db = settings.DATABASES["default"]
        dump = out_dir / f"sanling-{stamp}.dump"
        env = dict(os.environ, PGPASSWORD=db.get("PASSWORD") or "")
        cmd = [pg_tool("pg_dump"), "-Fc", "--no-owner", "-f", str(dump), "-d", db["NAME"]]
        for flag, key in (("-h", "HOST"), ("-p", "PORT"), ("-U", "USER")):
            if db.get(key):
                cmd += [flag, str(db[key])]
        subprocess.run(cmd, env=env, check=True)  # noqa: S603 - fixed argv of our own settings
        media = out_dir / f"media-{stamp}.tar.gz"
        with tarfile.open(media, "w:gz") as tar:
            root = Path(settings.MEDIA_ROOT)
            if root.exists():
                tar.add(root, arcname="media")
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        manifest = {
            "made_at": timezone.now().isoformat(),
            "database": {"file": dump.name, "sha256": sha256(dump)},
            "media": {"file": media.name, "sha256": sha256(media)},
            "audit": {"rows": AuditEvent.objects.count(), "last_hash": last},
        }
        (out_dir / f"manifest-{stamp}.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        self.stdout.write(self.style.SUCCESS(f"backup written to {out_dir}: {dump.name}, {media.name}"))
