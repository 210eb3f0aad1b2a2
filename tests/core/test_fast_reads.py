"""The API's fast reads (issue 17) answer exactly what the ORM's did: ``access.access`` of a record by its key
(``rows.by_pk`` then the scope's test) and the API's URL resolver that tries only the routes of the path's first
segment."""
import re

import pytest
from django.urls import Resolver404
from django.urls.resolvers import URLResolver

from cordon.core import access, rows
from cordon.places.models import Area


def _orm(user, pk, read=access.VIEW):
    try:
        return Area.objects.all().for_user(user, read).get(pk=pk)
    except (Area.DoesNotExist, ValueError, TypeError):
        return None


def _fast(user, pk, read=access.VIEW):
    try:
        return access.access(Area, user, pk, read=read)
    except access.NotFound:
        return None


def test_access_by_key_answers_as_the_orm(city, commander, worker, outsider):
    ids = list(Area.objects.values_list("pk", flat=True))
    for user in (commander, worker, outsider):
        for pk in [*ids, max(ids) + 1, 0, -1, "x", None, str(ids[0]), 2 ** 70]:
            orm, fast = _orm(user, pk), _fast(user, pk)
            assert (orm.pk if orm else None) == (fast.pk if fast else None), (user, pk)
            if fast is not None:
                assert {f.attname: getattr(fast, f.attname) for f in Area._meta.concrete_fields} == \
                    {f.attname: getattr(orm, f.attname) for f in Area._meta.concrete_fields}
                assert not fast._state.adding and fast._state.db == orm._state.db
    assert _fast(worker, city["unit_a"].pk).path == city["unit_a"].path
    assert _fast(outsider, city["unit_a"].pk) is None  # out of scope: the same answer as absent
    assert rows.by_pk(Area, max(ids) + 1) is None


def test_access_out_of_scope_is_not_found_before_forbidden(city, auditor, outsider):
    with pytest.raises(access.NotFound):
        access.access(Area, outsider, city["unit_a"].pk, perm=access.PLACES_WRITE)
    with pytest.raises(access.Forbidden):
        access.access(Area, auditor, city["unit_a"].pk, perm=access.PLACES_WRITE)


def _key(m):
    return (m.func, m.args, m.kwargs, m.url_name, m.app_names, m.namespaces, m.route,
            [[str(p.pattern) for p in t] for t in m.tried], m.captured_kwargs, m.extra_kwargs)


def _resolve(resolver, path):
    try:
        return _key(resolver.resolve(path))
    except Resolver404 as e:
        return ("404", [[str(p.pattern) for p in t] for t in e.args[0].get("tried") or []])


def test_the_api_resolver_answers_as_the_full_walk():
    from cordon.config import urls

    api = urls.urlpatterns[0]
    assert type(api).__name__ == "_ApiResolver" and api._index is not None
    full = URLResolver(api.pattern, api.url_patterns, app_name=api.app_name, namespace=api.namespace)
    paths = ["api/", "api/nope", "api/passes/", "api/passes/check/x", "api/tokens", "api/tokens/7", "api/tokens/x"]
    for p in api.url_patterns:
        route = str(p.pattern)
        paths += ["api/" + re.sub(r"<[^>]+>", "12", route), "api/" + re.sub(r"<[^>]+>", "ab", route),
                  "api/" + route.split("/")[0] + "/zz"]
    for path in paths:
        assert _resolve(api, path) == _resolve(full, path), path
