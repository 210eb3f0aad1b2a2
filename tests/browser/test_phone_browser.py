"""The field app on a phone (Chromium, 360 px): installed (manifest, service worker controlling /app/), the slice
loaded and kept encrypted, the network cut, tubes registered, deliveries confirmed and a check-in recorded offline,
the page reloaded offline (served by the service worker, the slice decrypted from IndexedDB), the network back:
the server holds each record exactly once with its audit row keeping the phone's time; the same changes sent again
change nothing; a duplicate tube is reported to the worker; a revoked device wipes the phone."""
from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from cordon.core import clock
from tests.browser.test_browser import browser, logged_in  # noqa: F401
from tests.phone.test_phone_api import field  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"timezone_id": "Asia/Shanghai", "has_touch": True, "is_mobile": True}


def _phone(browser, url, user):  # noqa: F811
    """A phone context signed in as ``user`` with the app open and its first sync done."""
    page, errors = logged_in(browser, url, user, 360, 740, then="/app/", **PHONE)
    page.wait_for_selector("body[data-ready='1']")
    return page.context, page, errors


def _controlled(page):
    """Wait until the service worker controls the page (polled: the page's CSP forbids evaluated strings)."""
    for _i in range(150):
        if page.evaluate("() => navigator.serviceWorker.controller !== null"):
            return
        page.wait_for_timeout(100)
    raise AssertionError("no service worker controls the page")


def _pick(page, city, resident):
    """Tick a resident of unit A in the screen's building -> unit -> household picker."""
    page.select_option("select[name=building]", str(city["unit_a"].parent_id))
    page.select_option("select[name=unit]", str(city["unit_a"].pk))
    page.check(f"input[name=res][value='{city[resident].pk}']")


def _queue_statuses(page) -> list[str]:
    page.goto(page.url.split("#")[0] + "#queue")
    page.wait_for_selector("main[data-screen=queue]")
    return page.eval_on_selector_all("li.change", "els => els.map(e => e.dataset.status)")


def _raw_store(page, store):
    return page.evaluate("""(store) => new Promise((ok, ko) => {
        const r = indexedDB.open("cordon-phone");
        r.onsuccess = () => { const q = r.result.transaction(store).objectStore(store).getAll();
                              q.onsuccess = () => ok(q.result); q.onerror = ko; };
        r.onerror = ko; })""", store)


def test_offline_field_work_syncs_once_with_its_phone_times(live_server, browser, city, worker, field):  # noqa: F811
    from cordon.cases.models import CheckIn
    from cordon.core.models import AuditEntry
    from cordon.phone.models import Change
    from cordon.screening.actions import do_register_tube
    from cordon.screening.models import Sample
    from cordon.supplies.models import DeliveryOrder

    # the contact's order is served at home from yesterday on: a check-in is due today
    from cordon.cases.models import PersonOrder

    today = clock.today()
    PersonOrder.objects.filter(pk=field["order"].pk).update(centralized_until=today - dt.timedelta(days=1),
                                                            home_until=today + dt.timedelta(days=7))
    url = live_server.url
    ctx, page, errors = _phone(browser, url, worker)

    # Installed: the manifest is valid and the service worker controls /app/.
    manifest = page.evaluate("fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())")
    assert manifest["start_url"] == "/app/" and manifest["display"] == "standalone"
    _controlled(page)
    scope = page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.scope)")
    assert scope == url + "/app/"

    # The slice is in IndexedDB, encrypted: no name, address or barcode in clear; the key cannot be exported.
    assert page.locator("#tile-deliveries .count").inner_text() == "2"
    raw = _raw_store(page, "slice")
    assert len(raw) == 1 and set(raw[0]) == {"id", "box"}
    assert page.evaluate("""() => new Promise((ok) => { const r = indexedDB.open("cordon-phone");
        r.onsuccess = () => { const q = r.result.transaction("slice").objectStore("slice").get("slice");
        q.onsuccess = () => ok(new TextDecoder().decode(q.result.box.ct)); }; })""").find("五泉") < 0
    dev = _raw_store(page, "device")[0]
    assert page.evaluate("""() => new Promise((ok) => { const r = indexedDB.open("cordon-phone");
        r.onsuccess = () => { const q = r.result.transaction("device").objectStore("device").get("me");
        q.onsuccess = () => ok([q.result.key.extractable, q.result.key.algorithm.name]); }; })""") == [False, "AES-GCM"]
    assert dev["device"]

    # Meanwhile the office registers a tube the phone does not know about.
    do_register_tube(field["round"], barcode="T0009", residents=[city["resident_a2"].pk], actor="test")

    # The network goes away.
    ctx.set_offline(True)
    page.wait_for_selector("#net.off")

    # Door-to-door sampling: a tube with 王**, then the same barcode again (caught on the phone), then the
    # barcode the office registered (the server will say duplicate).
    page.goto(url + "/app/#tubes")
    page.wait_for_selector("#register-tube")
    _pick(page, city, "resident_a")
    page.fill("#barcode", "t0001")
    page.click("#register-tube")
    expect(page.locator("#tube-msg")).to_have_text("试管 T0001 已记录，待上传。")
    expect(page.locator(f"input[name=res][value='{city['resident_a'].pk}']")).not_to_be_checked()
    page.check(f"input[name=res][value='{city['resident_a2'].pk}']")
    page.fill("#barcode", "T0001")
    page.click("#register-tube")
    expect(page.locator("#tube-msg")).to_have_text("试管 T0001 今日已登记过。")
    page.fill("#barcode", "T0009")
    page.click("#register-tube")
    expect(page.locator("#tube-msg")).to_have_text("试管 T0009 已记录，待上传。")

    # Deliveries: one delivered, one not (with the reason).
    page.goto(url + "/app/#deliveries")
    first, second = field["delivery"].pk, field["delivery2"].pk
    page.click(f"section.delivery[data-order='{first}'] button.ok")
    expect(page.locator(f"section.delivery[data-order='{first}']")).to_have_count(0)
    page.click(f"section.delivery[data-order='{second}'] button.secondary")
    page.fill(f"section.delivery[data-order='{second}'] input[name=reason]", "家中无人")
    page.click(f"section.delivery[data-order='{second}'] button.danger")
    expect(page.locator("section.delivery")).to_have_count(0)

    # The check-in of the person under a home order.
    page.goto(url + "/app/#checkins")
    order = field["order"].pk
    page.fill(f"section.checkin[data-order='{order}'] input[name=temperature]", "36.6")
    page.click(f"section.checkin[data-order='{order}'] button.btn")
    expect(page.locator("section.checkin")).to_have_count(0)

    # Reload with no network: the service worker serves the app, the slice and the queue are decrypted.
    resp = page.reload()
    assert resp is not None and resp.from_service_worker
    page.wait_for_selector("body[data-ready='1']")
    assert page.evaluate("navigator.onLine") is False
    assert _queue_statuses(page) == ["pending"] * 5
    assert page.locator("#pending").inner_text() == "待上传 5 条"
    # nothing reached the server yet
    assert not Sample.objects.filter(barcode="T0001").exists() and not Change.objects.exists()
    assert DeliveryOrder.objects.get(pk=first).status == "planned"

    # The network is back: the app syncs by itself and shows each change's result.
    audits_before = AuditEntry.objects.count()
    ctx.set_offline(False)
    expect(page.locator("li.change")).to_have_count(5)
    expect(page.locator("li.change[data-status=pending]")).to_have_count(0, timeout=20000)
    by_kind = page.eval_on_selector_all("li.change", "els => els.map(e => [e.dataset.kind, e.dataset.status])")
    assert sorted(by_kind) == sorted([["tube", "applied"], ["tube", "duplicate"], ["delivery", "applied"],
                                      ["delivery", "applied"], ["checkin", "applied"]])
    assert "重复" in page.locator("li.change[data-status=duplicate]").inner_text()
    assert "T0009" in page.locator("li.change[data-status=duplicate]").inner_text()
    assert "上次同步结果" in page.locator("#notice").inner_text()

    # The server holds each record once, its audit row dated by the phone.
    assert Sample.objects.filter(barcode="T0001").count() == 1
    assert Sample.objects.filter(barcode="T0009").count() == 1
    assert DeliveryOrder.objects.get(pk=first).status == "delivered"
    assert DeliveryOrder.objects.get(pk=second).status == "failed"
    ci = CheckIn.objects.get(order_id=order)
    assert float(ci.temperature) == 36.6
    assert Change.objects.count() == 5
    phone_rows = AuditEntry.objects.filter(pk__gt=0, occurred_at__isnull=False)
    assert phone_rows.count() == 4  # tube, delivered, failed, check-in (the duplicate wrote nothing)
    for e in phone_rows:
        assert e.occurred_at < e.at and e.at - e.occurred_at < dt.timedelta(minutes=10)
    audits_after = AuditEntry.objects.count()
    assert audits_after > audits_before

    # The answers are lost (the phone marks everything unsent): the same changes sent again change nothing.
    page.evaluate("""() => new Promise((ok) => { const r = indexedDB.open("cordon-phone");
        r.onsuccess = () => { const t = r.result.transaction("queue", "readwrite"); const s = t.objectStore("queue");
          s.getAll().onsuccess = (e) => { for (const x of e.target.result) { x.status = "pending"; s.put(x); } };
          t.oncomplete = ok; }; })""")
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert sorted(_queue_statuses(page)) == sorted(s for _k, s in by_kind)
    assert Sample.objects.filter(barcode__in=["T0001", "T0009"]).count() == 2
    assert Change.objects.count() == 5 and CheckIn.objects.filter(order_id=order).count() == 1
    assert AuditEntry.objects.filter(occurred_at__isnull=False).count() == 4
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    ctx.close()
    assert not [e for e in errors if "Failed to load resource" not in e], errors


def test_pass_checked_offline_and_revoked_device_wipes(live_server, browser, city, worker):  # noqa: F811
    from cordon.passes.actions import do_issue_pass
    from cordon.passes.signing import token_for
    from cordon.phone.models import Device

    today = clock.today()
    p = do_issue_pass(kind="medical", areas=[city["community_a"]], valid_from=today, valid_to=today + dt.timedelta(days=2),
                      holder=city["resident_a"], actor="test", reason="就医")
    token = token_for(p)
    url = live_server.url
    ctx, page, errors = _phone(browser, url, worker)
    _controlled(page)
    ctx.set_offline(True)
    page.goto(url + "/app/#pass")
    page.fill("textarea[name=token]", token)
    page.click("#check-pass")
    page.wait_for_selector("#pass-result h3")
    expect(page.locator("#pass-result h3")).to_have_text("签名有效")
    assert "王**" in page.locator("#pass-result").inner_text()
    body, sig = token.split(".")
    page.fill("textarea[name=token]", body + "." + ("A" if sig[0] != "A" else "B") + sig[1:])
    page.click("#check-pass")
    expect(page.locator("#pass-result h3")).to_contain_text("伪造")

    # English switch, offline.
    page.click("#lang")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#title").inner_text() == "Pass check"

    # The device is revoked (a lost phone): when the network returns the phone deletes its slice and key.
    Device.objects.update(revoked_at=clock.now())
    ctx.set_offline(False)
    expect(page.locator("#notice")).to_contain_text("deleted", timeout=20000)
    assert _raw_store(page, "slice") == [] and _raw_store(page, "device") == [] and _raw_store(page, "queue") == []
    # opened again online, it registers a new device (the server decides: the old one stays revoked)
    page.reload()
    expect(page.locator("textarea[name=token]")).to_be_visible(timeout=20000)
    assert Device.objects.filter(revoked_at__isnull=True).count() == 1
    ctx.close()
    assert not [e for e in errors if "Failed to load resource" not in e], errors


def test_visit_and_care_request_offline_every_screen_fits_and_scoping(live_server, browser, city, worker, outsider,
                                                                      field):  # noqa: F811
    from cordon.care.models import CareRequest, ProactiveTask

    url = live_server.url
    ctx, page, errors = _phone(browser, url, worker)
    for screen in ("", "buildings", f"building/{city['unit_a'].parent_id}", "tubes", "deliveries", "checkins",
                   "visits", "care", "pass", "playbooks", "playbook/door_sampling", "queue"):
        page.goto(f"{url}/app/#{screen}")
        page.wait_for_timeout(50)
        assert page.locator("main").inner_text().strip(), screen
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, screen
    page.goto(url + "/app/#building/" + str(city["unit_a"].parent_id))
    text = page.locator("main").inner_text()
    assert "王**" in text and "王秀英" not in page.content()
    # a person's special groups are badges (a list among the line's parts, not "[object HTMLSpanElement],...")
    assert "[object" not in text
    assert page.eval_on_selector_all("ul.people span.badge:not(.danger)", "els => els.map(e => e.textContent)") == [
        "80岁以上", "独居"]

    ctx.set_offline(True)
    task = field["task"]
    page.goto(url + "/app/#visits")
    page.fill(f"section.visit[data-task='{task.pk}'] textarea[name=note]", "上门送药")
    page.click(f"section.visit[data-task='{task.pk}'] button.btn")
    expect(page.locator(f"section.visit[data-task='{task.pk}']")).to_have_count(0)
    page.goto(url + "/app/#care")
    page.click("#send-care")
    expect(page.locator("main p.msg")).to_have_text("请选择人员和需求。")  # nothing chosen: nothing queued
    _pick(page, city, "resident_a")
    page.select_option("select[name=need]", "elderly")
    page.click("#send-care")
    expect(page.locator("main p.msg")).to_have_text("就医需求已记录，待上传。")
    assert not CareRequest.objects.exists()

    ctx.set_offline(False)
    page.goto(url + "/app/#queue")
    expect(page.locator("li.change")).to_have_count(2)
    expect(page.locator("li.change[data-status=applied]")).to_have_count(2, timeout=20000)
    assert ProactiveTask.objects.get(pk=task.pk).done_at is not None
    req = CareRequest.objects.get()
    assert req.resident_id == city["resident_a"].pk and req.source == "community"

    # English, online: the account's language follows, and the slice comes again with English playbooks.
    page.goto(url + "/app/#playbooks")
    assert "楼栋单元封控" in page.locator("main").inner_text()
    page.click("#lang")
    expect(page.locator("#title")).to_have_text("Playbooks")
    expect(page.locator("main")).to_contain_text("sealing a building unit", timeout=20000)
    assert {c["name"]: c["value"] for c in ctx.cookies()}.get("django_language") == "en"
    ctx.close()

    # A worker of another community: none of community A's buildings or people on their phone.
    ctx, page, errors2 = _phone(browser, url, outsider)
    page.goto(url + "/app/#buildings")
    text = page.locator("main").inner_text()
    assert "白银小区" in text and "五泉" not in text
    ctx.close()
    assert not [e for e in errors + errors2 if "Failed to load resource" not in e], errors + errors2


def test_changed_grants_make_the_slice_stale_and_unsent_changes_survive(live_server, browser, city, worker):  # noqa: F811
    """The worker's grants change while a change waits on the phone: the sync answers 409 stale, the phone deletes
    its slice and key, registers again and sends the kept change under the new key (applied once)."""
    from cordon.care.models import CareRequest
    from cordon.core.models import Grant
    from cordon.phone.models import Device

    url = live_server.url
    ctx, page, errors = _phone(browser, url, worker)
    ctx.set_offline(True)
    page.goto(url + "/app/#care")
    _pick(page, city, "resident_a")
    page.select_option("select[name=need]", "other")
    page.click("#send-care")
    expect(page.locator("main p.msg")).to_have_text("就医需求已记录，待上传。")
    Grant.objects.create(user=worker, role="community_worker", area=city["community_b"])
    ctx.set_offline(False)
    expect(page.locator("#notice")).to_contain_text("已入库 1", timeout=20000)
    assert "工作范围已变更" in page.locator("#notice").inner_text()
    page.goto(url + "/app/#queue")
    expect(page.locator("li.change[data-status=applied]")).to_have_count(1)
    assert CareRequest.objects.filter(resident=city["resident_a"]).count() == 1
    assert Device.objects.count() == 2  # the first one's key is gone from the phone; a new one holds the slice
    # the new slice covers both communities
    page.goto(url + "/app/#buildings")
    expect(page.locator("main")).to_contain_text("白银小区")
    ctx.close()
    assert not [e for e in errors if "Failed to load resource" not in e], errors


def test_a_volunteer_confirms_a_delivery_offline(live_server, browser, city, volunteer, field):  # noqa: F811
    """A volunteer's phone: only the deliveries (no building, resident or order on it); one confirmed offline is
    applied once when the network is back, its audit row under the volunteer's name with the phone's time."""
    from cordon.core.models import AuditEntry
    from cordon.supplies.models import DeliveryOrder

    ctx, page, errors = _phone(browser, live_server.url, volunteer)
    assert page.locator("#tile-deliveries .count").inner_text() == "2"
    ctx.set_offline(True)
    page.wait_for_selector("#net.off")
    page.goto(live_server.url + "/app/#deliveries")
    first = field["delivery"].pk
    expect(page.locator(f"section.delivery[data-order='{first}'] h3")).to_contain_text("101")
    assert "王" not in page.locator("main").inner_text()
    page.click(f"section.delivery[data-order='{first}'] button.ok")
    expect(page.locator(f"section.delivery[data-order='{first}']")).to_have_count(0)
    assert DeliveryOrder.objects.get(pk=first).status == "planned"
    assert _queue_statuses(page) == ["pending"]
    ctx.set_offline(False)
    expect(page.locator("li.change[data-kind=delivery][data-status=applied]")).to_have_count(1, timeout=20000)
    assert DeliveryOrder.objects.get(pk=first).status == "delivered"
    [row] = AuditEntry.objects.filter(action="delivery.delivered", object_id=str(first))
    assert row.actor_name == "volunteer_a" and row.occurred_at is not None and row.occurred_at < row.at
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    ctx.close()
    assert not [e for e in errors if "Failed to load resource" not in e], errors


def test_tiles_follow_the_roles_and_buildings_are_told_apart(live_server, browser, city, worker, volunteer):  # noqa: F811
    """A volunteer's phone shows only what a volunteer does (deliveries; the pass check, playbooks and queue
    for everyone) and a screen of another role's falls back to the tiles; two buildings of one name in the
    worker's community are told apart by their estate."""
    from cordon.places.actions import do_ensure_area

    parts = city["unit_a"].path.split("/")  # district/street/community/estate/building/unit
    parts[-3] += "二期"
    do_ensure_area("/".join(parts), actor="test")
    url = live_server.url
    _ctx, page, errors = _phone(browser, url, worker)
    page.goto(url + "/app/#care")
    page.wait_for_selector("main[data-screen=care]")
    labels = page.eval_on_selector_all("select[name=building] option:not([value=''])", "os => os.map(o => o.text)")
    name = city["unit_a"].parent.name
    assert sorted(labels) == sorted([f"{city['unit_a'].parent.parent.name} {name}", f"{parts[-3]} {name}"])
    page.goto(url + "/app/#buildings")  # paths below the worker's community, which every card would repeat
    page.wait_for_selector("main[data-screen=buildings]")
    paths = page.eval_on_selector_all("main a.row small", "els => els.map(e => e.textContent)")
    assert sorted(paths) == sorted([f"{city['unit_a'].parent.parent.name}/{name}", f"{parts[-3]}/{name}"])
    page.context.close()

    _ctx, page, more = _phone(browser, url, volunteer)
    tiles = page.eval_on_selector_all("a.tile", "els => els.map(e => e.id)")
    assert tiles == ["tile-deliveries", "tile-pass", "tile-playbooks", "tile-queue"]
    page.goto(url + "/app/#care")
    page.wait_for_selector("main[data-screen=home]")
    assert page.locator("#back").is_hidden()
    page.context.close()
    assert errors + more == []
