"""The dependency audit's verdict (.ci/audit.py): unjustified findings fail, justified
ones pass with their reason, unreachable lookups fail only in strict mode."""

import importlib.util
from pathlib import Path

import pytest

spec = importlib.util.spec_from_file_location("ci_audit", Path(__file__).resolve().parents[1] / ".ci" / "audit.py")
audit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit)

VULN = {
    "name": "django",
    "version": "5.2.0",
    "vulns": [{"id": "PYSEC-2025-1", "aliases": ["CVE-2025-0001"], "fix_versions": ["5.2.1"], "description": "x"}],
}
CLEAN = {"name": "celery", "version": "5.5.0", "vulns": []}
SKIPPED = {"name": "redis", "skip_reason": "Dependency not found on PyPI and could not be audited"}


def test_an_unjustified_finding_fails():
    code, lines = audit.judge({"dependencies": [VULN, CLEAN]}, {}, strict=False)
    assert code == 1 and any("VULNERABLE django 5.2.0 PYSEC-2025-1 (fixed in: 5.2.1)" in x for x in lines)


def test_a_finding_justified_by_alias_passes_with_its_reason():
    code, lines = audit.judge(
        {"dependencies": [VULN, CLEAN]}, {"CVE-2025-0001": "admin only, not exposed"}, strict=True
    )
    assert code == 0 and any("admin only, not exposed" in x for x in lines)


@pytest.mark.parametrize("strict, expected", [(False, 0), (True, 1)])
def test_packages_that_could_not_be_audited_are_reported(strict, expected):
    code, lines = audit.judge({"dependencies": [CLEAN, SKIPPED]}, {}, strict=strict)
    assert code == expected and any("could not be audited" in x for x in lines)
    assert lines[-1] == "audited 1 package(s): 0 unjustified finding(s), 1 not audited"


def test_a_justification_needs_a_reason(tmp_path):
    f = tmp_path / "ignore.txt"
    f.write_text("# comment\nGHSA-xxxx fixed upstream in our fork\nPYSEC-1\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="PYSEC-1 has no justification"):
        audit.justified(f)
    f.write_text("GHSA-xxxx fixed upstream in our fork\n", encoding="utf-8")
    assert audit.justified(f) == {"GHSA-xxxx": "fixed upstream in our fork"}
