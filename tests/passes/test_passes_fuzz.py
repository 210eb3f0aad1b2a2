"""The schema fuzzer (tests/core/test_api_fuzz.py) over the passes operations as the checkpoint officer and the
commander: no server error, answers as the document states."""
import pytest

from cordon.core.actions import do_create_user
from tests.core.test_api_fuzz import _world, fuzz

PATHS = ("/api/passes", "/api/passes/{pass_id}", "/api/passes/{pass_id}/revoke", "/api/passes/check",
         "/api/passes/revocations", "/api/passes/public-key")


@pytest.mark.parametrize("role", ("checkpoint_officer", "commander"))
def test_fuzz_passes(role, city, commander):
    _world(city, commander)
    user = commander if role == "commander" else do_create_user(
        "cp", "pw", role=role, area=city["district"], actor="test", check_password=False)[0]
    failures = []
    for path in PATHS:
        out = fuzz(user, examples=12, only=path)
        assert out["counts"]["operations"] >= 1, path
        failures += out["failures"]
    assert not failures, "\n\n".join(failures)
