"""Dependency vulnerability audit: pip-audit over the pinned requirements.

Fails (exit 1) on any known vulnerability not justified in .ci/audit-ignore.txt
(one advisory id per line, then the reason). Packages pip-audit could not look up —
the vulnerability service unreachable, as on an intranet build machine — are listed
loudly; they fail the run only with AUDIT_STRICT=1 (set it where the service is
reachable), because an unreachable service is not a finding.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def justified(path: Path = HERE / "audit-ignore.txt") -> dict[str, str]:
    out = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                vid, _, reason = line.partition(" ")
                if not reason.strip():
                    raise SystemExit(f"audit-ignore.txt: {vid} has no justification")
                out[vid] = reason.strip()
    return out


def judge(report: dict, ignore: dict[str, str], *, strict: bool) -> tuple[int, list[str]]:
    lines, findings, skipped = [], 0, []
    for dep in report.get("dependencies", []):
        if "skip_reason" in dep:
            skipped.append(f"{dep['name']}: {dep['skip_reason']}")
            continue
        for v in dep.get("vulns", []):
            ids = {v["id"], *v.get("aliases", [])}
            why = next((ignore[i] for i in ids if i in ignore), None)
            if why:
                lines.append(f"justified {dep['name']} {dep['version']} {v['id']}: {why}")
            else:
                findings += 1
                fix = ", ".join(v.get("fix_versions", [])) or "no fix released"
                lines.append(f"VULNERABLE {dep['name']} {dep['version']} {v['id']} (fixed in: {fix})")
    if skipped:
        lines.append(f"!! {len(skipped)} package(s) could not be audited (vulnerability service unreachable?):")
        lines.extend(f"!!   {s}" for s in skipped)
    audited = len(report.get("dependencies", [])) - len(skipped)
    lines.append(f"audited {audited} package(s): {findings} unjustified finding(s), {len(skipped)} not audited")
    failed = findings > 0 or (strict and bool(skipped))
    return (1 if failed else 0), lines


def main() -> int:
    proc = subprocess.run(  # noqa: S603 - fixed argv: this interpreter running pip-audit
        [
            sys.executable,
            "-m",
            "pip_audit",
            "-r",
            str(ROOT / "requirements.txt"),
            "--no-deps",
            "--disable-pip",
            "--format",
            "json",
            "--progress-spinner",
            "off",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        print(proc.stderr, file=sys.stderr)
        print("!! pip-audit produced no report", file=sys.stderr)
        return 1
    code, lines = judge(report, justified(), strict=os.environ.get("AUDIT_STRICT") == "1")
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main())
