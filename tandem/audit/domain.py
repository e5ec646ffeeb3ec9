"""What an audit is made of: checks, the violations they find, and the report (pure)."""

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class Violation:
    """One row breaking one rule."""

    rule: str  # the check's name
    row: str  # e.g. "order 12", "inventory_levels variant 3"
    message: str

    def as_dict(self) -> dict:
        return {"rule": self.rule, "row": self.row, "message": self.message}


@dataclass(frozen=True)
class Check:
    """One invariant (SPEC §6 item `invariant`), read from the data by `find` (a query or two)."""

    name: str
    invariant: int
    description: str
    find: Callable[[Connection], list[tuple[str, str]]]  # (row, message) of each violation

    def run(self, conn: Connection) -> list[Violation]:
        return [Violation(self.name, row, message) for row, message in self.find(conn)]


@dataclass(frozen=True)
class Finding:
    check: Check
    violations: list[Violation]

    def as_dict(self) -> dict:
        check = self.check
        return {
            "name": check.name,
            "invariant": check.invariant,
            "description": check.description,
            "violations": len(self.violations),
        }


@dataclass
class AuditReport:
    findings: list[Finding] = field(default_factory=list)

    @property
    def violations(self) -> list[Violation]:
        return [v for finding in self.findings for v in finding.violations]

    @property
    def clean(self) -> bool:
        return not self.violations

    @property
    def summary(self) -> str:
        """ "clean", or how many violations were found."""
        count = len(self.violations)
        return "clean" if not count else f"{count} violation{'s' if count > 1 else ''}"

    def as_dict(self) -> dict:
        return {
            "result": self.summary,
            "clean": self.clean,
            "checks": [finding.as_dict() for finding in self.findings],
            "violations": [v.as_dict() for v in self.violations],
        }
