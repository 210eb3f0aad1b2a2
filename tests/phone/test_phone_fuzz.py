"""The phone API under generated input (schemathesis, as tests/core/test_api_fuzz.py runs the whole API): no
answer of 500 and every answer as documented, for a community worker and a volunteer (both hold phone.use) on a
world with a device and field records."""
from __future__ import annotations

import pytest

from tests.core.test_api_fuzz import fuzz

pytestmark = pytest.mark.django_db

PATHS = ("/api/phone/devices", "/api/phone/devices/{device_id}", "/api/phone/slice", "/api/phone/sync")


@pytest.mark.parametrize("who", ["worker", "volunteer"])
@pytest.mark.parametrize("path", PATHS)
def test_phone_api_under_generated_input(path, who, city, request):
    from cordon.phone.actions import do_register_device

    user = request.getfixturevalue(who)
    do_register_device(user, "fuzz phone", actor=user)
    out = fuzz(user, examples=25, only=path)
    assert out["counts"]["operations"] >= 1
    assert out["failures"] == [], "\n\n".join(out["failures"])
