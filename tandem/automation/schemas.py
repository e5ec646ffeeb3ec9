from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints

from tandem.api.presenting import timestamp
from tandem.api.types import Input, Text
from tandem.automation.models import AutomationRule
from tandem.orders.domain import HoldReason


class ActionIn(Input):
    type: Literal["hold", "cancel", "tag"]
    reason: HoldReason | None = None  # for hold (default high_risk_of_fraud)
    tag: Annotated[Text, StringConstraints(max_length=100)] | None = None  # for tag


def _action_by_name(value):
    """`"cancel"` is short for `{"type": "cancel"}`."""
    return {"type": value} if isinstance(value, str) else value


class RuleIn(Input):
    name: Annotated[Text, StringConstraints(max_length=200)]
    condition: str = Field(min_length=1, max_length=1000)
    action: Annotated[ActionIn, BeforeValidator(_action_by_name)]


class RuleOut(BaseModel):
    id: int
    name: str
    condition: str
    action: dict
    created_at: str

    @classmethod
    def of(cls, rule: AutomationRule) -> "RuleOut":
        action = {"type": rule.action}
        if rule.hold_reason:
            action["reason"] = rule.hold_reason
        if rule.tag:
            action["tag"] = rule.tag
        return cls(
            id=rule.id,
            name=rule.name,
            condition=rule.condition,
            action=action,
            created_at=timestamp(rule.created_at),
        )


class RuleList(BaseModel):
    rules: list[RuleOut]
    next_cursor: str | None = None
    variables: dict[str, str]  # what a condition may use
