"""Who did something: every timeline entry names its actor."""

from dataclasses import dataclass
from enum import StrEnum


class ActorKind(StrEnum):
    STAFF = "staff"
    API = "api"
    CUSTOMER = "customer"
    WORKER = "worker"
    RULE = "rule"
    SUPPLIER = "supplier"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    name: str
    id: int | None = None


WORKER = Actor(ActorKind.WORKER, "worker")
SYSTEM = Actor(ActorKind.SYSTEM, "Tandem")


@dataclass(frozen=True)
class Change:
    """Something that happened to an aggregate, named in the past tense."""

    verb: str
    data: dict
