"""The schema fuzzer (tests/core/test_api_fuzz.py) over the key-worker operations alone, as a writer and a reader."""
from __future__ import annotations

import pytest

from tests.core.test_api_fuzz import _world, fuzz

pytestmark = pytest.mark.django_db

PATHS = ("/api/keyworkers/workers", "/api/keyworkers/workers/{worker_id}", "/api/keyworkers/overdue",
         "/api/keyworkers/workers/{worker_id}/samples", "/api/keyworkers/employers",
         "/api/keyworkers/employers/{employer_id}/contacts")


@pytest.mark.parametrize("role", ("commander", "worker", "auditor"))
def test_fuzz_keyworkers(role, city, commander, worker, auditor):
    _world(city, commander)
    user = {"commander": commander, "worker": worker, "auditor": auditor}[role]
    ops = 0
    for path in PATHS:
        out = fuzz(user, examples=6, only=path)
        assert not out["failures"], "\n\n".join(out["failures"])
        ops += out["counts"]["operations"]
    assert ops == 8
