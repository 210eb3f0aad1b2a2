"""The checkpoint page offline, in Chromium: the page synced the public key and the revocation list while online;
then, with the network gone, a typed pass token is checked on the phone alone (allowed; a revoked one and a
forged one refused; a short code cannot be checked without the server) and nothing is logged, and back online a
check goes to the server again and is logged. Skipped, with the reason printed, where Chromium is absent (unless
CORDON_REQUIRE_BROWSER=1).

The camera path is not driven here: it reads codes with ``BarcodeDetector``, which Chromium offers on Android,
ChromeOS and macOS but not on Linux, so a fake camera (``--use-file-for-fake-video-capture``) would have nothing
to read it; the test checks that such a browser says so and leaves typing the code."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.browser.test_browser import browser, logged_in  # noqa: F401  (the shared launch fixture)
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_checkpoint_checks_tokens_offline(live_server, browser, city):  # noqa: F811
    from django.utils import translation
    from django.utils.translation import gettext as _

    from cordon.core import clock
    from cordon.core.actions import do_create_user
    from cordon.passes import actions, signing
    from cordon.passes.models import CheckLog

    officer, _g = do_create_user("gate", PASSWORD, role="checkpoint_officer", area=city["district"], actor="test")
    actions.do_create_checkpoint("五泉卡口", area=city["unit_a"], actor="test")
    today = clock.today()

    def issue(who, areas):
        return actions.do_issue_pass(kind="delivery", areas=areas, valid_from=today - dt.timedelta(days=1),
                                     valid_to=today + dt.timedelta(days=3), holder=city[who], actor="test")

    good, gone = issue("resident_a2", [city["street"]]), issue("resident_a", [city["street"]])
    elsewhere = issue("resident_b", [city["community_b"]])
    actions.do_revoke_pass(gone, reason="rider left the platform", actor="test")
    forged = signing.token_for(good)
    forged = forged[:-3] + ("A" if forged[-3] != "A" else "B") + forged[-2:]
    with translation.override("zh-hans"):
        t = {k: _(k) for k in ("Allowed", "Refused", "Revoked (offline list)", "Forged or damaged code: refused",
                               "area not covered by the pass", "Offline: checked on this phone only",
                               "This browser cannot read codes with the camera: type the code.")}
        t["code"] = _("Offline: a typed code can only be checked by the server; scan the QR code or type its token")

    page, errors = logged_in(browser, live_server.url, officer, 390, 844, then="/passes/check/",
                             timezone_id="Asia/Shanghai")
    # the page synced the key and the revocation list (kept in localStorage for the offline checks)
    page.wait_for_function("() => localStorage.getItem('cordon.passes.key') && "
                           f"(JSON.parse(localStorage.getItem('cordon.passes.revoked')) || {{ids: []}}).ids.includes({gone.pk})")
    page.context.set_offline(True)
    assert page.evaluate("navigator.onLine") is False
    logged = CheckLog.objects.count()

    def offline_answer(text):
        page.fill("#id_code", "")
        page.locator("#scan-local").evaluate("e => e.textContent = ''")
        page.fill("#id_code", text)
        page.click("#check-form button[type=submit]")
        page.wait_for_function("() => document.getElementById('scan-local').textContent !== ''")
        return page.locator("#scan-local").inner_text()

    ok = offline_answer(signing.token_for(good))
    assert ok.startswith(t["Allowed"]) and f"#{good.pk}" in ok and t["Offline: checked on this phone only"] in ok, ok
    revoked = offline_answer(signing.token_for(gone))
    assert revoked.startswith(f'{t["Refused"]}: {t["Revoked (offline list)"]}') and f"#{gone.pk}" in revoked, revoked
    away = offline_answer(signing.token_for(elsewhere))
    assert away.startswith(f'{t["Refused"]}: {t["area not covered by the pass"]}'), away
    assert offline_answer(forged) == t["Forged or damaged code: refused"]
    assert offline_answer(good.code) == t["code"]
    assert CheckLog.objects.count() == logged  # nothing reached the server
    assert page.url.endswith("/passes/check/")

    # a fake camera would give BarcodeDetector nothing to read on Linux: the page says so
    if not page.evaluate("'BarcodeDetector' in window"):
        page.locator("#scan-local").evaluate("e => e.textContent = ''")
        page.click("#scan-start")
        assert page.locator("#scan-local").inner_text() == t["This browser cannot read codes with the camera: type the code."]

    # back online: the check is the server's again, logged
    page.context.set_offline(False)
    page.fill("#id_code", good.code)
    page.click("#check-form button[type=submit]")
    page.wait_for_selector("#check-result")
    assert page.locator("#check-result h2").inner_text() == t["Allowed"]
    assert CheckLog.objects.count() == logged + 1
    assert not errors, errors
