"""On PostgreSQL: the audit trail is append-only in the database itself (a trigger refuses
UPDATE and DELETE, whatever the application does), and a backup restores into a fresh
PostgreSQL with its audit chain intact — the restore drill of docs/security.md."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from tests.services import postgresql
from units.audit import audit, verify_chain
from units.management.commands.backup import pg_tool
from units.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def test_raw_sql_cannot_change_or_remove_an_audit_row(users):
    ev = audit(actor=users.officer, action="test.event", detail={"n": 1})
    table = AuditEvent._meta.db_table
    for sql in (f"UPDATE {table} SET action = 'forged' WHERE id = %s", f"DELETE FROM {table} WHERE id = %s"):
        with pytest.raises(DatabaseError, match="audit_append_only"), transaction.atomic():
            with connection.cursor() as cur:
                cur.execute(sql, [ev.pk])  # noqa: S608 - our own table name
    ev.refresh_from_db()
    assert ev.action == "test.event" and list(verify_chain()) == []


def test_a_backup_restores_into_a_fresh_postgresql_with_its_trail_verified(users, tmp_path, settings, campaign):
    # given: some trail, an official result and an evidence file
    from reports import results
    from tests.factories import UnitFactory, make_assessment

    for n in range(20):
        audit(actor=users.officer, action="test.event", detail={"n": n, "text": "审计记录"})
    make_assessment(unit=UnitFactory(township=users.officer.region), campaign=campaign, status="approved")
    result = results.result_close(campaign=campaign, year=2022, notice_days=0, by=users.province)
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media" / "evidence").mkdir(parents=True)
    (tmp_path / "media" / "evidence" / "x.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    # when: backed up
    out = tmp_path / "backup"
    call_command("backup", out=str(out))
    manifest = json.loads(next(out.glob("manifest-*.json")).read_text())
    dump = out / manifest["database"]["file"]
    assert manifest["audit"]["rows"] == AuditEvent.objects.count()
    # then: restored into another, empty PostgreSQL, the trail verifies row for row
    with postgresql() as fresh:
        subprocess.run([pg_tool("pg_restore"), "--no-owner", "-d", fresh["url"], str(dump)], check=True)
        env = {**os.environ, "DATABASE_URL": fresh["url"], "DJANGO_SETTINGS_MODULE": "sanling.settings.test"}
        res = subprocess.run(
            [sys.executable, "manage.py", "verify_audit"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert res.returncode == 0, res.stdout + res.stderr
        assert f"{manifest['audit']['rows']} rows" in res.stdout
        # and the official result's fingerprint, recomputed from the restored rows
        res = subprocess.run(
            [sys.executable, "manage.py", "verify_results"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert res.returncode == 0, res.stdout + res.stderr
        assert result.digest in res.stdout and "1 results" in res.stdout
        # and the restored copy is no less protected: the trigger came with it
        res = subprocess.run(
            [pg_tool("psql"), fresh["url"], "-c", f"DELETE FROM {AuditEvent._meta.db_table}"],
            capture_output=True,
            text=True,
        )
        assert res.returncode != 0 and "audit_append_only" in res.stderr
    # the evidence archive holds the file
    import tarfile

    with tarfile.open(out / manifest["media"]["file"]) as tar:
        assert "media/evidence/x.pdf" in tar.getnames()
