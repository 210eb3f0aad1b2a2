"""A schema fuzzer over the whole API (schemathesis on the OpenAPI document, in-process through WSGI).

Each of three roles (the commander, the in-scope community worker, the auditor) sends generated requests to
every operation, on the personas' small city with records in each app; every answer must be no server error,
with a status code, content type and body the document states. Derandomized with a fixed budget per
operation, so the run is the same every time and stays within the suite's time.
"""
from __future__ import annotations

import logging
import time

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

ROLES = ("commander", "worker", "auditor")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 4          # generated cases per operation and role: the budget (3 roles x ~95 operations x 4)

pytestmark = pytest.mark.django_db
_savepoint = getattr(transaction, "savepoint_create", transaction.savepoint)  # renamed in Django 6.1


def _world(city, commander) -> dict:
    """Records of every app in community A, so small generated ids often address real rows."""
    from cordon.core import clock
    from cordon.screening.actions import do_create_round
    from cordon.situation.actions import do_draft_bulletin
    from cordon.zones.actions import do_designate
    from tests.care._fixtures import desk_objects
    from tests.cases._cfixtures import cases_records
    from tests.keyplaces._kfixtures import keyplace_records
    from tests.resources._rfixtures import resources_records

    records = {"designation_a": do_designate(city["unit_a"], "high", reason="C-P1", actor="test")}
    records.update(cases_records(city))
    records.update(desk_objects(city))
    records.update(keyplace_records(city))
    records.update(resources_records(city))
    records["round_a"] = do_create_round(name="五泉社区", on=clock.today(), areas=[city["community_a"]], actor="test")
    records["bulletin"] = do_draft_bulletin(clock.today(), actor=commander)
    from cordon.keyworkers.actions import do_create_employer, do_register_key_worker

    records["employer"] = do_create_employer("美团", kind="delivery_platform", actor="test")
    records["keyworker"] = do_register_key_worker(city["resident_a"], group="delivery", employer=records["employer"],
                                                  actor="test")
    from cordon.passes.actions import do_create_checkpoint, do_issue_pass

    records["pass_a"] = do_issue_pass(kind="delivery", areas=[city["community_a"]], valid_from=clock.today(),
                                      valid_to=clock.today(), holder=city["resident_a2"], actor="test")
    records["checkpoint_a"] = do_create_checkpoint("五泉卡口", area=city["community_a"], actor="test")
    from tests.command.test_api import command_records

    records.update(command_records(city))
    return records


class _ServerErrors(logging.Handler):
    """Keeps the tracebacks Django logs for answers of 500, to name the cause in the failure report."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record):
        if record.exc_info:
            import traceback

            self.records.append("".join(traceback.format_exception(*record.exc_info))[-1500:])


def fuzz(user, *, examples: int = EXAMPLES, only: str | None = None) -> dict:
    """Run the fuzzer as ``user`` (bearer token) over every operation (or those whose path is ``only``);
    returns counts and the failures found."""
    from cordon.core.actions import do_create_token

    _token, secret = do_create_token(user, "fuzz", actor=user)
    decoy, _ = do_create_token(user, "decoy", actor=user)   # the one DELETE /api/tokens/{id} may revoke
    headers = {"Authorization": f"Bearer {secret}", "Accept-Language": "en"}
    counts = {"operations": 0, "cases": 0, "failures": 0}
    failures: list[str] = []
    errors = _ServerErrors()
    logging.getLogger("django.request").addHandler(errors)
    # As Django's test client does: the requests run inside the test's transaction, so the end of a request
    # must not close the database connection (it would on PostgreSQL).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
        for result in schema.get_all_operations():
            op = result.ok()
            if only is not None and op.path != only:
                continue
            counts["operations"] += 1
            fixed = {"token_id": decoy.pk} if "{token_id}" in op.path else None
            strategy = op.as_strategy(path_parameters=fixed)

            @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=strategy)
            def run(case):
                counts["cases"] += 1
                sid = _savepoint()
                response = case.call(headers=headers)
                if response.status_code >= 500:
                    transaction.savepoint_rollback(sid)   # a server error may leave the transaction unusable
                else:
                    transaction.savepoint_commit(sid)
                case.validate_response(response, checks=CHECKS)

            try:
                run()
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001  (report every operation's failure)
                counts["failures"] += 1
                detail = errors.records[-1] if errors.records else ""
                failures.append(f"{op.method.upper()} {op.path}: {str(exc)[:1500]}\n{detail}")
                errors.records.clear()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
        logging.getLogger("django.request").removeHandler(errors)
    return {"counts": counts, "failures": failures}


@pytest.mark.parametrize("role", ROLES)
def test_fuzz_whole_api(role, city, commander, worker, auditor, capsys):
    _world(city, commander)
    user = {"commander": commander, "worker": worker, "auditor": auditor}[role]
    cpu = time.process_time()
    out = fuzz(user)
    with capsys.disabled():
        print(f"\napi fuzz as {role}: {out['counts']} ({time.process_time() - cpu:.1f} s of CPU)")
    assert out["counts"]["operations"] >= 80
    assert not out["failures"], "\n\n".join(out["failures"])


def test_fuzzer_reports_server_errors(city, commander, monkeypatch):
    """The fuzzer is not blind: a server error on one operation is reported (the logged traceback, when the
    request logger kept one, follows the check's report)."""
    from cordon.core import access

    def broken(user):
        raise RuntimeError("grants unavailable")

    monkeypatch.setattr(access, "grants_of", broken)
    out = fuzz(commander, examples=2, only="/api/me")
    assert out["counts"]["operations"] == 1 and out["counts"]["failures"] == 1
    assert out["failures"][0].startswith("GET /api/me:") and "Server error" in out["failures"][0]
