"""Validation at the API edge (the same on SQLite and PostgreSQL), the OpenAPI document, and token revocation.

Bad input of every class answers 400 with ``field`` and a ``detail`` in the request's language, never 500 and
never stored; the document has one schema per name, states errors, enums and ranges; a caller can list and
revoke their own tokens.
"""
from __future__ import annotations

import json
import re
import typing

import pydantic
import pytest

from cordon.config.api import api
from cordon.core.models import ApiToken, AuditEntry

pytestmark = pytest.mark.django_db


def _send(client, method, path, body=None, *, raw=None, lang="en"):
    kw = {"HTTP_ACCEPT_LANGUAGE": lang}
    if body is not None or raw is not None:
        kw.update(data=raw if raw is not None else json.dumps(body), content_type="application/json")
    return getattr(client, method)(path, **kw)


# ------------------------------------------------------------------------------------------ the edge


@pytest.fixture
def records(city, commander):
    from cordon.core import clock
    from cordon.zones.actions import do_designate
    from tests.care._fixtures import desk_objects
    from tests.cases._cfixtures import cases_records

    return {**city, "designation_a": do_designate(city["unit_a"], "high", reason="P1", actor="test"),
            **cases_records(city), **desk_objects(city), "today": clock.today()}


def _bad_inputs(r):
    """(method, path, body or raw JSON, field): each must answer 400 naming ``field``."""
    unit_a, order, wh = r["unit_a"].pk, r["order_a"].pk, r["warehouse_a"].pk
    d = r["designation_a"].pk
    huge = 2**64
    return [
        # ids: strict integers in 1..2^63-1 (true is not 1)
        ("post", "/api/designations", {"area_id": True, "reason": "x"}, "area_id"),
        ("post", "/api/designations", {"area_id": 1.0, "reason": "x"}, "area_id"),
        ("post", "/api/designations", {"area_id": str(unit_a), "reason": "x"}, "area_id"),
        ("post", "/api/designations", {"area_id": huge, "reason": "x"}, "area_id"),
        ("post", "/api/designations", {"area_id": 0, "reason": "x"}, "area_id"),
        ("get", f"/api/areas/{huge}", None, "area_id"),
        ("get", f"/api/areas?parent={huge}", None, "parent"),
        ("get", f"/api/areas?page={huge}", None, "page"),
        ("get", "/api/areas?page=0", None, "page"),
        ("get", "/api/areas?page_size=100000", None, "page_size"),
        ("get", "/api/screening/rounds?page=99999999999999999999999", None, "page"),
        # text: null is not "None", no NUL, no lone surrogate, within max_length
        ("patch", f"/api/residents/{r['resident_a'].pk}", {"name": None}, "name"),
        ("post", "/api/tokens", {"name": None}, "name"),
        ("post", "/api/tokens", {"name": "a\x00b"}, "name"),
        ("post", "/api/tokens", '{"name": "\\ud800"}', "name"),
        ("post", "/api/tokens", {"name": "x" * 81}, "name"),
        ("get", "/api/areas?q=%00", None, "q"),
        ("post", f"/api/designations/{d}/keep", {"reason": "\x00"}, "reason"),
        ("post", f"/api/supplies/warehouses/{wh}/movements",
         {"item_id": r["desk_item"].pk, "direction": "in", "quantity": 1, "reason": "x" * 201}, "reason"),
        # bodies that are not objects
        ("post", f"/api/designations/{d}/keep", "[1]", ""),
        ("post", f"/api/designations/{d}/keep", "null", ""),
        ("post", f"/api/designations/{d}/keep", '"keep"', ""),
        ("post", f"/api/designations/{d}/keep", "{", ""),
        # numbers: finite, within the model's precision
        ("post", f"/api/supplies/warehouses/{wh}/movements",
         '{"item_id": %d, "direction": "in", "quantity": 1e309, "reason": "x"}' % r["desk_item"].pk, "quantity"),
        ("post", f"/api/supplies/warehouses/{wh}/movements",
         '{"item_id": %d, "direction": "in", "quantity": NaN, "reason": "x"}' % r["desk_item"].pk, ""),
        ("post", f"/api/supplies/warehouses/{wh}/movements",
         {"item_id": r["desk_item"].pk, "direction": "in", "quantity": "0.001", "reason": "x"}, "quantity"),
        ("post", f"/api/supplies/warehouses/{wh}/movements",
         {"item_id": r["desk_item"].pk, "direction": "in", "quantity": "1" * 13, "reason": "x"}, "quantity"),
        ("post", f"/api/supplies/warehouses/{wh}/movements",
         {"item_id": r["desk_item"].pk, "direction": "sideways", "quantity": 1, "reason": "x"}, "direction"),
        ("post", f"/api/orders/{order}/checkins", '{"temperature": 1e309}', "temperature"),
        ("get", "/api/situation?mean_si=nan", None, "mean_si"),
        # dates within 2000-01-01 .. today + 2 years
        ("post", f"/api/orders/{order}/checkins", {"on": "9999-12-31"}, "on"),
        ("post", f"/api/orders/{order}/checkins", {"on": "0001-01-01"}, "on"),
        ("post", "/api/screening/rounds", {"name": "r", "on": "9999-12-31", "area_ids": [unit_a]}, "on"),
        ("put", f"/api/care/needs/{r['resident_a'].pk}", {"due_date": "9999-12-31"}, "due_date"),
        ("put", f"/api/care/needs/{r['resident_a'].pk}", {"due_date": "0001-01-01"}, "due_date"),
        ("get", "/api/situation?on=9999-12-31", None, "on"),
        ("get", "/api/situation?on=0001-01-01", None, "on"),
        ("get", "/api/situation/daily?on=9999-12-31", None, "on"),
        ("get", "/api/flags?since=0001-01-01", None, "since"),
        # an extension of 0 or fewer days
        ("post", f"/api/orders/{order}/extend", {"days": 0, "reason": "positive"}, "days"),
        ("post", f"/api/orders/{order}/extend", {"days": -3, "reason": "positive"}, "days"),
        # enums
        ("post", "/api/designations", {"area_id": unit_a, "level": "extreme", "reason": "x"}, "level"),
        ("post", f"/api/care/requests/{r['request_a'].pk}/close", {"reason": "x"}, "outcome"),
    ]


def test_bad_input_is_400_with_field_never_500(records, commander, as_user):
    c = as_user(commander)
    before = AuditEntry.objects.count()
    for method, path, body, field in _bad_inputs(records):
        raw = body if isinstance(body, str) else None
        r = _send(c, method, path, None if raw is not None else body, raw=raw)
        assert r.status_code == 400, (method, path, body, r.status_code, r.content[:300])
        out = r.json()
        assert out["field"] == field and out["detail"], (method, path, body, out)
    assert AuditEntry.objects.count() == before  # nothing was written
    assert c.get("/api/supplies/warehouses").status_code == 200


def test_true_is_not_an_id_and_null_is_not_stored(records, commander, as_user):
    from cordon.places.models import Resident
    from cordon.zones.models import Designation

    c = as_user(commander)
    n = Designation.objects.count()
    assert _send(c, "post", "/api/designations", {"area_id": True, "reason": "x"}).status_code == 400
    assert Designation.objects.count() == n
    assert _send(c, "patch", f"/api/residents/{records['resident_a'].pk}", {"phone": None}).status_code == 400
    assert Resident.objects.get(pk=records["resident_a"].pk).phone == "13909310001"


def test_errors_in_chinese(records, commander, worker, as_user):
    c = as_user(commander)
    r = _send(c, "post", f"/api/orders/{records['order_a'].pk}/extend", {"days": 0, "reason": "x"}, lang="zh-hans")
    assert r.status_code == 400 and r.json()["detail"] == "不能小于 1", r.json()
    r = _send(c, "post", "/api/tokens", {"name": "a\x00"}, lang="zh-hans")
    assert r.json()["detail"] == "不能包含 NUL 字符"
    r = _send(c, "get", "/api/situation?on=9999-12-31", lang="zh-hans")
    assert r.json()["detail"].startswith("日期须在 2000-01-01 与 ")
    r = _send(c, "post", "/api/designations/1/keep", raw="[]", lang="zh-hans")
    assert r.json()["detail"] == "请求体必须是 JSON 对象"
    r = _send(c, "get", "/api/areas/987654321", lang="zh-hans")
    assert r.status_code == 404 and r.json()["detail"] == "未找到"
    # a path no route serves answers the API's JSON too, not the site's page
    r = _send(c, "get", "/api/maps/no-such-route?bbox=1,2", lang="zh-hans")
    assert r.status_code == 404 and r.json() == {"detail": "未找到", "field": ""}
    # a UUID field (the phone's device and batch) and an endpoint's own refusal (the pass check's)
    r = _send(as_user(worker), "post", "/api/phone/sync", {"device": "x", "batch": "", "scope_hash": "s", "changes": []},
              lang="zh-hans")
    assert r.status_code == 400 and r.json()["detail"].startswith("须为 UUID"), r.json()
    r = _send(c, "post", "/api/passes/check", {"area_id": records["unit_b"].pk}, lang="zh-hans")
    assert r.status_code == 400 and r.json()["field"] == "token" and "令牌" in r.json()["detail"], r.json()


def test_action_errors_in_chinese(records, commander, as_user):
    c = as_user(commander)
    r = _send(c, "post", "/api/designations", {"area_id": records["unit_b"].pk, "reason": " "}, lang="zh-hans")
    assert r.status_code == 400 and r.json() == {"detail": "划定风险区须填写理由", "field": "reason"}, r.json()
    r = _send(c, "post", f"/api/supplies/warehouses/{records['warehouse_a'].pk}/movements",
              {"item_id": 987654321, "direction": "in", "quantity": 1, "reason": "x"}, lang="zh-hans")
    assert r.status_code == 400 and r.json() == {"detail": "没有该物资", "field": "item_id"}
    # a guardrail's refusal in the request's language too
    close = f"/api/care/requests/{records['request_a'].pk}/close"
    zh = _send(c, "post", close, {"outcome": "refused"}, lang="zh-hans").json()
    en = _send(c, "post", close, {"outcome": "refused"}, lang="en").json()
    assert zh["rule"] == en["rule"] == "nine-prohibitions-6" and zh["detail"] != en["detail"]
    assert re.search("[\u4e00-\u9fff]", zh["detail"]) and en["detail"].isascii()


def test_valid_bounds_still_accepted(records, commander, as_user):
    c = as_user(commander)
    order = records["order_a"].pk
    r = _send(c, "post", f"/api/orders/{order}/checkins", {"on": str(records["today"]), "temperature": "36.6"})
    assert r.status_code == 201, r.content
    r = _send(c, "post", f"/api/supplies/warehouses/{records['warehouse_a'].pk}/movements",
              {"item_id": records["desk_item"].pk, "direction": "in", "quantity": "9999999999.99", "reason": "x"})
    assert r.status_code == 201, r.content
    assert c.get("/api/supplies/warehouses").status_code == 200
    assert c.get("/api/areas?page_size=200&page=100000").status_code == 200


# ------------------------------------------------------------------------------------------ the document


def _operations():
    for _prefix, router in api._routers:
        for path, view in router.path_operations.items():
            for op in view.operations:
                yield path, op


def _models(annotation, seen: set):
    """Every pydantic model reachable from a type annotation."""
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        if annotation in seen:
            return
        seen.add(annotation)
        for f in annotation.model_fields.values():
            _models(f.annotation, seen)
        return
    for arg in typing.get_args(annotation):
        _models(arg, seen)


def test_schema_names_are_unique_across_the_api():
    seen: set = set()
    for _path, op in _operations():
        for model in op.models:
            for f in model.model_fields.values():
                _models(f.annotation, seen)
        for model in op.response_models.values():
            if model is not None and hasattr(model, "model_fields"):
                _models(model.model_fields["response"].annotation, seen)
    by_name: dict[str, set] = {}
    for m in seen:
        by_name.setdefault(m.__name__, set()).add(m)
    clashes = {n: sorted(f"{m.__module__}.{m.__qualname__}" for m in ms) for n, ms in by_name.items() if len(ms) > 1}
    assert not clashes, clashes
    assert {"CareCloseIn", "TicketCloseIn", "CareKpiOut", "InfectionKpiOut"} <= set(by_name)


def _resolve(doc, schema):
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def test_openapi_document(client):
    doc = client.get("/api/openapi.json").json()
    close = doc["paths"]["/api/care/requests/{request_id}/close"]["post"]
    body = _resolve(doc, close["requestBody"]["content"]["application/json"]["schema"])
    assert "outcome" in body["properties"] and "outcome" in body["required"]
    assert set(_resolve(doc, body["properties"]["outcome"])["enum"]) == {"done", "cancelled", "refused"}
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            codes = set(op["responses"])
            assert {"400", "401", "403", "404"} <= codes, (method, path, codes)
            if method in ("post", "put", "patch", "delete"):
                assert "409" in codes, (method, path)
            err = op["responses"]["400"]["content"]["application/json"]["schema"]
            assert _resolve(doc, err)["properties"].keys() >= {"detail", "field"}
    areas = {p["name"]: p["schema"] for p in doc["paths"]["/api/areas"]["get"]["parameters"]}
    assert areas["page"]["minimum"] == 1 and areas["page"]["maximum"] == 100_000
    assert areas["page_size"]["maximum"] == 200
    assert set(areas["kind"]["anyOf"][0]["enum"]) >= {"district", "unit"}
    token_in = doc["components"]["schemas"]["TokenIn"]["properties"]["name"]
    assert token_in["maxLength"] == 80
    area_id = doc["components"]["schemas"]["DesignationCreate"]["properties"]["area_id"]
    assert area_id["type"] == "integer" and area_id["minimum"] == 1 and area_id["maximum"] == 2**63 - 1
    page = doc["components"]["schemas"]["AreaList"]
    assert {"items", "page", "page_size", "has_next"} <= set(page["properties"])


def test_decimal_fields_in_the_document_say_what_is_accepted(records, commander, as_user, client):
    """A decimal field is documented as a number within the range its digits allow, or a text of that shape (not
    pydantic's "a number or any string", which promised that "abc" or 8e-62 would be taken); the server accepts
    what the document allows at the edges, and refuses what it rules out."""
    doc = client.get("/api/openapi.json").json()
    quantity = _resolve(doc, doc["components"]["schemas"]["MovementIn"]["properties"]["quantity"])
    number, text = quantity["anyOf"]
    assert number == {"type": "number", "minimum": 0, "maximum": 9999999999.99}
    assert text["type"] == "string" and "10 digits before the point and 2 after" in quantity["description"]
    pattern = re.compile(text["pattern"])
    assert all(pattern.match(v) for v in ("0", "9999999999.99", ".5", "+3.1"))
    assert not any(pattern.match(v) for v in ("abc", "", "-1", "1e3", "12345678901", "1.234", "1.2.3", " 1"))
    c = as_user(commander)
    url = f"/api/supplies/warehouses/{records['warehouse_a'].pk}/movements"
    body = {"item_id": records["desk_item"].pk, "direction": "in", "reason": "x"}
    for ok in (".5", "+3.1", 9999999999.99):
        r = _send(c, "post", url, {**body, "quantity": ok})
        assert r.status_code == 201, (ok, r.content)
    for bad in ("abc", "1.234", "12345678901"):
        r = _send(c, "post", url, {**body, "quantity": bad})
        assert r.status_code == 400 and r.json()["field"] == "quantity", (bad, r.content)
    temperature = _resolve(doc, doc["components"]["schemas"]["CheckInIn"]["properties"]["temperature"])
    decimal, null = temperature["anyOf"]
    assert decimal["anyOf"][0] == {"type": "number", "minimum": 30, "maximum": 45} and null == {"type": "null"}


# ------------------------------------------------------------------------------------------ tokens


def _bearer(secret):
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_tokens_listed_and_revoked(city, worker, auditor, client):
    from cordon.core.actions import do_create_token

    mine, secret = do_create_token(worker, "script")
    other, _ = do_create_token(worker, "spare")
    theirs, their_secret = do_create_token(auditor, "theirs")
    r = client.get("/api/tokens", **_bearer(secret))
    assert r.status_code == 200
    rows = r.json()
    assert [t["id"] for t in rows] == [other.pk, mine.pk]
    assert all(set(t) == {"id", "name", "prefix", "created", "last_used", "revoked"} for t in rows)
    assert secret not in r.content.decode() and mine.digest not in r.content.decode()
    # another user's token, or an absent one: 404 (and nothing changes)
    assert client.delete(f"/api/tokens/{theirs.pk}", **_bearer(secret)).status_code == 404
    assert client.delete("/api/tokens/987654321", **_bearer(secret)).status_code == 404
    assert not ApiToken.objects.get(pk=theirs.pk).revoked
    # revoke the spare one, then the one in use: it stops working at once
    assert client.delete(f"/api/tokens/{other.pk}", **_bearer(secret)).status_code == 204
    assert AuditEntry.objects.filter(action="token.revoke", object_id=str(other.pk)).count() == 1
    assert client.delete(f"/api/tokens/{mine.pk}", **_bearer(secret)).status_code == 204
    assert client.get("/api/me", **_bearer(secret)).status_code == 401
    assert [t["revoked"] for t in client.get("/api/tokens", **_bearer(their_secret)).json()] == [False]
    entry = AuditEntry.objects.get(action="token.revoke", object_id=str(mine.pk))
    assert entry.actor_name == "worker_a"
