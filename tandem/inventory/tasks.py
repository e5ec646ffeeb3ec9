"""Worker sweep: lapsed reservations give their units back."""

from datetime import datetime

from tandem.inventory import service as inventory
from tandem.runtime import Runtime


def reclaim_lapsed_reservations(runtime: Runtime, now: datetime) -> int:
    """One short transaction per variant, so a hot variant's lock is held only briefly."""
    with runtime.uow(read_only=True) as uow:
        variant_ids = inventory.variants_with_expired_reservations(uow.session, now=now, limit=100)
    units = 0
    for variant_id in sorted(variant_ids):
        units += inventory.reclaim_expired_alone(runtime.database, variant_id=variant_id, now=now)
    return units
