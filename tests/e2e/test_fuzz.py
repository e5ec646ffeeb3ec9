"""schemathesis fuzzes every operation of /openapi.json against a live server, as a real store.

Every answer must be no 5xx, a status the operation documents, with the documented content
type and a body that matches the documented schema. Valid and invalid requests are generated
for each operation; TANDEM_FUZZ_EXAMPLES sets how many of each (12 in the suite, 150 in
`make fuzz`, which also draws new examples each run). Failures are collected, not shrunk,
so one run shows all of them, each with a curl command that repeats it.
"""

import os
from collections import Counter
from dataclasses import dataclass, field

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.live import serving
from tests.support.world import everything

EXAMPLES = int(os.environ.get("TANDEM_FUZZ_EXAMPLES", "12"))
# The suite sends the same requests every run; `make fuzz` new ones each time.
FRESH = os.environ.get("TANDEM_FUZZ_FRESH") == "1"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@dataclass
class Tally:
    statuses: Counter = field(default_factory=Counter)
    failures: dict[tuple, str] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())


def _fuzz(operation, mode: GenerationMode, session: requests.Session, tally: Tally) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=not FRESH,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        response = case.call(session=session, timeout=30)
        tally.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            for failure in group.exceptions:
                key = (operation.label, failure.title, response.status_code)
                tally.failures.setdefault(key, f"{failure.message}\n{case.as_curl_command()}")

    run()


def test_every_generated_request_gets_a_documented_answer(
    app, make_store, clock, worker, receiver, allow_private_webhooks, capsys
):
    store = everything(make_store, clock, worker, receiver).retailer  # small ids name real things
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {store.token}"
    tally = Tally()
    with serving(app) as url:
        schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _fuzz(operation, mode, session, tally)
    with capsys.disabled():
        print(f"\nfuzz: {tally.requests} requests, {len(operations)} operations, {dict(tally.statuses)}")
    assert len(operations) > 40
    assert tally.requests >= len(operations) * 2
    assert not tally.failures, "\n\n".join(f"{key}: {detail}" for key, detail in tally.failures.items())
