"""Every table, imported in one place so metadata is complete (migrations, tests)."""

from tandem import liveness  # noqa: F401
from tandem.auth import models as auth_models  # noqa: F401
from tandem.automation import models as automation_models  # noqa: F401
from tandem.catalog import models as catalog_models  # noqa: F401
from tandem.checkout import models as checkout_models  # noqa: F401
from tandem.customers import models as customer_models  # noqa: F401
from tandem.db import Base
from tandem.idempotency import models as idempotency_models  # noqa: F401
from tandem.inventory import models as inventory_models  # noqa: F401
from tandem.notifications import models as notification_models  # noqa: F401
from tandem.orders import models as order_models  # noqa: F401
from tandem.payments import models as payment_models  # noqa: F401
from tandem.payments import test_gateway  # noqa: F401
from tandem.preorders import models as preorder_models  # noqa: F401
from tandem.stores import models as store_models  # noqa: F401
from tandem.suppliers import models as supplier_models  # noqa: F401
from tandem.timeline import models as timeline_models  # noqa: F401
from tandem.worker import models as worker_models  # noqa: F401

metadata = Base.metadata
