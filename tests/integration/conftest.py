"""Every integration test's database is audited when the test ends (`tandem audit`, SPEC §6):
whatever races, crashes and recoveries did, stock and money must still balance."""

import pytest

from tandem.audit.service import audit
from tandem.db import make_engine
from tests.conftest import make_settings


@pytest.fixture(autouse=True)
def audited_afterwards(request):
    yield
    url = request.node.funcargs.get("database_url")
    if url is None or request.node.get_closest_marker("unaudited"):
        return
    engine = make_engine(make_settings(url), pool_size=1)
    try:
        report = audit(engine)
    finally:
        engine.dispose()
    assert report.clean, "the test left a database that fails the audit: " + "; ".join(
        f"{v.rule}: {v.row}: {v.message}" for v in report.violations
    )
