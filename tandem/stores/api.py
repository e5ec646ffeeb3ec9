from fastapi import APIRouter

from tandem.api.deps import CallerDep, Now, ReadUoW, UoW
from tandem.stores import service
from tandem.stores.schemas import StoreOut, StoreUpdate

router = APIRouter(tags=["store"])


@router.get("/store", response_model=StoreOut)
def get_store(caller: CallerDep, uow: ReadUoW):
    return StoreOut.of(service.get_store(uow, store_id=caller.store_id))


@router.patch("/store", response_model=StoreOut)
def update_store(body: StoreUpdate, caller: CallerDep, uow: UoW, now: Now):
    changes = body.model_dump(exclude_unset=True)
    if body.return_policy is not None:  # a policy is set whole: its left-out fields take their defaults
        changes["return_policy"] = body.return_policy.model_dump()
    return StoreOut.of(service.update_store(uow, store_id=caller.store_id, changes=changes, now=now))
