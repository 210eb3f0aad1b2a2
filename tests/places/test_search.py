"""Resident search (places.queries.search_residents, the search page): by a part of a name, a full ID number,
its last digits, a part of a phone number; within the user's jurisdiction; audited; masked."""
from __future__ import annotations

import pytest

from cordon.core import ids
from cordon.core.actions import ActionError
from cordon.core.models import AuditEntry
from cordon.places.actions import do_search_residents
from cordon.places.queries import search_residents, search_term


def _names(found):
    return [r.name for r in found.residents]


def test_kinds_of_term():
    assert search_term(" 620102193803020012 ")[0] == "id"
    assert search_term("0012") == ("digits", "0012")
    assert search_term("139-0931") == ("digits", "1390931")
    assert search_term("秀英") == ("name", "秀英")
    for bad in ("", "  ", "123", "1" * 19, "x" * 41):
        with pytest.raises(ActionError) as e:
            search_term(bad)
        assert e.value.field == "q"


def test_name_substring_not_only_prefix(city, commander):
    assert _names(search_residents(commander, "秀英")) == ["王秀英"]   # the middle and end of the name
    assert _names(search_residents(commander, "王秀英")) == ["王秀英"]  # three characters: the trigram index
    assert _names(search_residents(commander, "建")) == ["李建国"]
    assert _names(search_residents(commander, "赵")) == []


def test_full_id_number_and_its_last_digits(city, commander):
    r = city["resident_b"]
    assert _names(search_residents(commander, r.id_number)) == ["张伟"]
    assert _names(search_residents(commander, r.id_number.lower())) == ["张伟"]
    for n in (4, 6, 10, 17):
        assert r in search_residents(commander, r.id_number[-n:]).residents, n
    # the same last four with a different fifth-last digit is not a match
    other = ("1" if r.id_number[-5] != "1" else "2") + r.id_number[-4:]
    assert r not in search_residents(commander, other).residents


def test_phone_substring(city, commander):
    assert _names(search_residents(commander, "13909310002")) == ["李建国"]
    assert _names(search_residents(commander, "9310003")) == ["张伟"]
    assert len(search_residents(commander, "0931").residents) == 3   # the middle of every phone


def test_scoped_to_the_jurisdiction(city, worker, outsider):
    b = city["resident_b"]
    for q in ("张伟", b.id_number, b.id_number[-6:], b.phone[-5:], "伟"):
        assert search_residents(worker, q).residents == [], q
        assert _names(search_residents(outsider, q)) == ["张伟"], q
    assert sorted(_names(search_residents(worker, "0931"))) == ["李建国", "王秀英"]


def test_roles_without_personal_data_find_no_one(city):
    from tests.conftest import _user

    hotline = _user("hotline", "hotline_operator", None)
    assert search_residents(hotline, "0931").residents == []


def test_limit_and_more(city, commander, monkeypatch):
    found = search_residents(commander, "0931", limit=2)
    assert len(found.residents) == 2 and found.more
    assert [r.pk for r in found.residents] == sorted(r.pk for r in found.residents)


def test_every_search_is_audited_with_a_masked_term(city, commander):
    r = city["resident_a"]
    do_search_residents(r.id_number, actor=commander)
    do_search_residents("秀英", actor=commander)
    do_search_residents("0931", actor=commander)
    rows = list(AuditEntry.objects.filter(action="resident.search").order_by("id"))
    assert [e.actor_name for e in rows] == ["commander"] * 3
    assert [e.after["kind"] for e in rows] == ["id", "name", "digits"]
    assert [e.after["hits"] for e in rows] == [1, 1, 3]
    assert rows[0].after["term"] == ids.mask_id_number(r.id_number)
    assert rows[1].after["term"] == "秀*"
    for e in rows:
        text = str(e.after) + e.object_repr
        assert r.id_number not in text and "王秀英" not in text and r.phone not in text


def test_search_page_masks_and_links(city, worker, as_user):
    r = city["resident_a"]
    page = as_user(worker).get("/search/", {"q": r.phone[-7:]})
    html = page.content.decode()
    assert page.status_code == 200
    assert f"/residents/{r.pk}/" in html
    assert ids.mask_phone(r.phone) in html and ids.mask_id_number(r.id_number) in html
    assert r.phone not in html and r.id_number not in html and "王秀英" not in html
    assert AuditEntry.objects.filter(action="resident.search", actor=worker).count() == 1


def test_search_page_sections_per_role(city, as_user):
    from tests.conftest import _user

    logistics = _user("logistics", "logistics_officer", None)
    html = as_user(logistics).get("/search/", {"q": "五泉"}).content.decode()
    assert "五泉社区" in html                      # addresses: every staff role
    assert "/residents/" not in html and "620" not in html   # no personal data for logistics
    assert not AuditEntry.objects.filter(action="resident.search").exists()


def test_search_page_explains_a_short_number(city, worker, as_user):
    page = as_user(worker).get("/search/", {"q": "12", "in": "people"})
    assert page.status_code == 200
    assert "at least 4 digits" in page.content.decode() or "至少" in page.content.decode()


def test_header_search_box_for_signed_in_users(city, worker, as_user):
    assert 'class="top-search"' in as_user(worker).get("/").content.decode()
    assert 'class="top-search"' not in as_user(None).get("/").content.decode()


def test_search_api(city, worker, outsider, as_user):
    r = city["resident_a"]
    body = as_user(worker).get("/api/residents/search", {"q": r.id_number[-6:]}).json()
    assert body["kind"] == "digits" and [i["id"] for i in body["items"]] == [r.pk] and not body["more"]
    assert r.id_number not in str(body) and body["items"][0]["id_number"] == ids.mask_id_number(r.id_number)
    assert as_user(outsider).get("/api/residents/search", {"q": r.id_number[-6:]}).json()["items"] == []
    assert as_user(worker).get("/api/residents/search").json() == {"kind": "", "items": [], "more": False}
    bad = as_user(worker).get("/api/residents/search", {"q": "12"})
    assert bad.status_code == 400 and "q" in bad.content.decode()
    assert AuditEntry.objects.filter(action="resident.search", actor=worker).count() == 1
