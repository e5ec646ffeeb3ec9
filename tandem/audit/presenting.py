"""The audit's report as the command prints it: lines for people, or one JSON object."""

import json

from tandem.audit.domain import AuditReport

AREAS = {1: "stock", 2: "money", 3: "suppliers", 4: "timeline"}  # by the check's invariant


def as_text(report: AuditReport) -> str:
    lines = [f"checked {len(report.findings)} invariants:"]
    for finding in report.findings:
        check, count = finding.check, len(finding.violations)
        mark = "ok  " if not count else "FAIL"
        tail = f"  ({count} violation{'s' if count > 1 else ''})" if count else ""
        lines.append(f"  {mark} {AREAS[check.invariant]:<9} {check.name}: {check.description}{tail}")
        lines += [f"         {v.row}: {v.message}" for v in finding.violations]
    lines.append(f"audit: {report.summary}")
    return "\n".join(lines)


def as_json(report: AuditReport, database: str) -> str:
    return json.dumps({"database": database, **report.as_dict()}, indent=2)
