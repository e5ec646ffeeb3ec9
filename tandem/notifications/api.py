from typing import Annotated

from fastapi import APIRouter, Query, Response

from tandem.api.deps import CallerDep, Now, PageDep, ReadUoW, UoW
from tandem.api.types import Id, SearchText
from tandem.notifications import service
from tandem.notifications.schemas import (
    CreatedWebhookOut,
    DeliveryList,
    DeliveryOut,
    EmailList,
    EmailOut,
    WebhookIn,
    WebhookList,
    WebhookOut,
)

router = APIRouter(tags=["notifications"])
Limit = Annotated[int, Query(ge=1, le=250)]


@router.post("/webhooks", response_model=CreatedWebhookOut, status_code=201)
def create_webhook(body: WebhookIn, caller: CallerDep, uow: UoW, now: Now):
    subscription, secret = service.create_subscription(
        uow, store_id=caller.store_id, topic=body.topic, address=body.address, now=now
    )
    return CreatedWebhookOut(**WebhookOut.of(subscription).model_dump(), secret=secret)


@router.get("/webhooks", response_model=WebhookList)
def list_webhooks(caller: CallerDep, uow: ReadUoW, page: PageDep):
    found = service.list_subscriptions(uow, store_id=caller.store_id, page=page)
    return WebhookList(webhooks=[WebhookOut.of(s) for s in found.items], next_cursor=found.next_cursor)


@router.delete("/webhooks/{webhook_id}", status_code=204)
def delete_webhook(webhook_id: Id, caller: CallerDep, uow: UoW, now: Now):
    service.delete_subscription(uow, store_id=caller.store_id, subscription_id=webhook_id, now=now)
    return Response(status_code=204)


@router.get("/webhook_deliveries", response_model=DeliveryList)
def list_deliveries(
    caller: CallerDep,
    uow: ReadUoW,
    status: Annotated[SearchText | None, Query()] = None,
    webhook_id: Annotated[Id | None, Query()] = None,
    limit: Limit = 50,
):
    found = service.list_deliveries(
        uow, store_id=caller.store_id, status=status, subscription_id=webhook_id, limit=limit
    )
    return DeliveryList(deliveries=[DeliveryOut.of(d) for d in found])


@router.post("/webhook_deliveries/{delivery_id}/resend", response_model=DeliveryOut)
def resend_delivery(delivery_id: Id, caller: CallerDep, uow: UoW, now: Now):
    return DeliveryOut.of(
        service.resend_delivery(uow, store_id=caller.store_id, delivery_id=delivery_id, now=now)
    )


@router.get("/emails", response_model=EmailList)
def list_emails(
    caller: CallerDep, uow: ReadUoW, status: Annotated[SearchText | None, Query()] = None, limit: Limit = 50
):
    found = service.list_emails(uow, store_id=caller.store_id, status=status, limit=limit)
    return EmailList(emails=[EmailOut.of(e) for e in found])


@router.post("/emails/{email_id}/resend", response_model=EmailOut)
def resend_email(email_id: Id, caller: CallerDep, uow: UoW, now: Now):
    return EmailOut.of(service.resend_email(uow, store_id=caller.store_id, email_id=email_id, now=now))
