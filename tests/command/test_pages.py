"""The command-order pages: send from a form, the unit's phone page (read receipt, acknowledge, complete with a
photo), the matrix with its filter and export, the notifications page and its bell, the screen's version."""
from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile

from cordon.command.models import CommandOrder, Recipient
from cordon.core.models import AuditEntry, Notification

def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, "PNG")
    return out.getvalue()


def test_send_acknowledge_complete_through_pages(city, commander, worker, outsider, as_user, settings, tmp_path):
    settings.HOME = tmp_path
    c = as_user(commander)
    assert c.get("/orders/new/").status_code == 200
    r = c.post("/orders/new/", {"title": "入户排查", "text": "今日完成入户排查", "priority": "urgent",
                                "due": "2028-03-02T18:00", "to": "城关区/皋兰路街道", "level": "community",
                                "attachment": SimpleUploadedFile("通知.pdf", b"%PDF-1.4 notice")})
    assert r.status_code == 302, r.content.decode()[:3000]
    o = CommandOrder.objects.get()
    assert o.attachment_name == "通知.pdf" and (tmp_path / "orders").exists()
    w = as_user(worker)
    page = w.get("/")
    assert b'data-unread="1"' in page.content
    mine = Recipient.objects.get(order=o, label__endswith="五泉社区")
    assert "今日完成入户排查" in w.get(f"/orders/{o.pk}/").content.decode()  # the notification link
    assert w.get(f"/inbox/{mine.pk}/").status_code == 200
    mine.refresh_from_db()
    assert mine.status == "read" and mine.read_version == 1
    assert w.post(f"/inbox/{mine.pk}/acknowledge/", {"acknowledge-reason": ""}).status_code == 302
    r = w.post(f"/inbox/{mine.pk}/complete/", {"complete-evidence": "", "complete-numbers": "x"})
    assert r.status_code == 400
    r = w.post(f"/inbox/{mine.pk}/complete/", {"complete-evidence": "完成", "complete-numbers": "visited=120",
                                               "complete-photo": SimpleUploadedFile("p.png", _png(), "image/png")})
    assert r.status_code == 302
    mine.refresh_from_db()
    assert (mine.status, mine.evidence_numbers, mine.evidence_photo != "") == ("done", {"visited": 120}, True)
    other = Recipient.objects.get(order=o, label__endswith="白银路社区")
    assert w.get(f"/inbox/{other.pk}/").status_code == 404
    page = c.get(f"/orders/{o.pk}/?status=done").content.decode()
    assert "五泉社区" in page and "白银路社区" not in page
    export = c.get(f"/orders/{o.pk}/export/?format=csv")
    assert export.status_code == 200 and "白银路社区" in b"".join(export.streaming_content).decode("utf-8-sig")
    assert c.post(f"/orders/{o.pk}/withdraw/", {"withdraw-reason": "改由区里安排"}).status_code == 302
    assert AuditEntry.objects.filter(action="order.withdraw").count() == 1


def test_notifications_page_and_screen(city, commander, worker, as_user):
    from cordon.command import actions
    from cordon.core import clock

    actions.do_send_order(title="t", text="x", due=clock.now() + dt.timedelta(hours=3), to=["城关区/皋兰路街道"],
                          level="community", actor=commander)
    w = as_user(worker)
    assert "新指令" in w.get("/notifications/").content.decode()
    assert w.post("/notifications/", {"what": "read"}).status_code == 302
    assert Notification.objects.get(user=worker).read_at is not None
    assert w.post("/notifications/", {"what": "prefs", "order": ["email"]}).status_code == 302
    assert w.get("/screen/").status_code == 403
    c = as_user(commander)
    v = c.get("/screen/version/").json()["version"]
    assert c.get("/screen/").status_code == 200
    data = c.get("/screen/data/").json()
    orders = next(p for p in data["data"]["panels"] if p["name"] == "orders")
    assert {f["key"]: f["value"] for f in orders["figures"]}["sent"] == 2
    actions.do_send_order(title="t2", text="x", due=clock.now() + dt.timedelta(hours=3), to=["城关区"],
                          actor=commander)
    assert c.get("/screen/version/").json()["version"] > v


def test_order_page_in_chinese_keeps_the_deadline_and_says_when_no_unit_matches(city, commander, as_user):
    """The sender's page in Chinese: the revise form's deadline is filled (a date-and-time input takes only
    2026-12-07T18:00; Django wrote the language's 2026/12/07 18:00, which the browser dropped, leaving the field
    empty), and a filter matching no unit says so under the matrix's headings. (Found walking the demo.)"""
    from django.utils import timezone

    from cordon.command import actions
    from cordon.core import clock

    due = (clock.now() + dt.timedelta(hours=3)).replace(second=0, microsecond=0)
    o = actions.do_send_order(title="t", text="x", due=due, to=["城关区/皋兰路街道"], level="community",
                              actor=commander)
    c = as_user(commander)
    c.cookies["django_language"] = "zh-hans"
    html = c.get(f"/orders/{o.pk}/").content.decode()
    assert f'value="{timezone.localtime(due):%Y-%m-%dT%H:%M}"' in html and "没有匹配的单位" not in html
    assert "没有匹配的单位" in c.get(f"/orders/{o.pk}/?status=done").content.decode()
    c.cookies["django_language"] = "en"
    assert "No unit matches." in c.get(f"/orders/{o.pk}/?text=不存在").content.decode()
