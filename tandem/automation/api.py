from fastapi import APIRouter, Response

from tandem.api.deps import CallerDep, Now, PageDep, ReadUoW, UoW
from tandem.api.types import Id
from tandem.automation import service
from tandem.automation.domain import VARIABLES, RuleAction
from tandem.automation.schemas import RuleIn, RuleList, RuleOut

router = APIRouter(tags=["automation"])


@router.post("/automation_rules", response_model=RuleOut, status_code=201)
def create_rule(body: RuleIn, caller: CallerDep, uow: UoW, now: Now):
    action = body.action
    rule = service.create_rule(
        uow,
        store_id=caller.store_id,
        name=body.name,
        condition=body.condition,
        action=RuleAction(action.type),
        hold_reason=action.reason,
        tag=action.tag,
        now=now,
    )
    return RuleOut.of(rule)


@router.get("/automation_rules", response_model=RuleList)
def list_rules(caller: CallerDep, uow: ReadUoW, page: PageDep):
    found = service.list_rules(uow, store_id=caller.store_id, page=page)
    return RuleList(
        rules=[RuleOut.of(r) for r in found.items], variables=VARIABLES, next_cursor=found.next_cursor
    )


@router.delete("/automation_rules/{rule_id}", status_code=204)
def delete_rule(rule_id: Id, caller: CallerDep, uow: UoW):
    service.delete_rule(uow, store_id=caller.store_id, rule_id=rule_id)
    return Response(status_code=204)
