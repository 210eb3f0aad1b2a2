"""The role x capability table as documentation, and the walk over every page and API operation that both the
documentation and the tests use (``docs/permissions.md`` is this module's output; a test fails when they differ).

    python -m cordon.config.permdoc > docs/permissions.md
"""
from __future__ import annotations

from cordon.core import access


def pages() -> list[tuple[str, str, str | None]]:
    """(URL name, path pattern, declared capability or None) of every page (the API excluded)."""
    from django.urls import URLPattern, URLResolver, get_resolver

    out = []

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace == "api":
                    continue
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                out.append((p.name or "", prefix + str(p.pattern), getattr(p.callback, "cordon_cap", None)))

    walk(get_resolver().url_patterns, "")
    return out


def operations() -> list[tuple[str, str, str, str | None]]:
    """(method, path, function name, declared capability or None) of every API operation."""
    from cordon.config.api import api  # after django.setup() (this module also runs as a script)

    out = []
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for op in path_view.operations:
                for method in op.methods:
                    out.append((method, "/api" + (prefix.rstrip("/") + path), op.view_func.__name__,
                                getattr(op.view_func, "cordon_cap", None)))
    return sorted(out, key=lambda o: (o[1], o[0]))


def render() -> str:
    roles = list(access.ROLE_CAPS)
    lines = [
        "# Permissions: one role x capability table",
        "",
        "Generated from `cordon.core.access` by `python -m cordon.config.permdoc > docs/permissions.md`;",
        "`tests/core/test_permissions.py` fails when this file and the code disagree. Pages, API, navigation,",
        "exports and `cordon createuser` all read the same table (`ROLE_CAPS`).",
        "",
        "A user holds grants: a role over a node of the city (or the whole city). A capability holds where the",
        "user has a grant whose role carries it (`scope_for(user, cap)`), so jurisdiction and capability are one",
        "answer. A signed-in user without the capability a page needs gets 403 (the API: 403 too); a record",
        "outside the capability's jurisdiction answers 404, the same as an absent one. Pages draw a link only",
        "when its target opens for the viewer (`{% can cap record as ok %}`); the navigation shows only the",
        "entries whose capability the viewer holds.",
        "",
        "## Roles and capabilities",
        "",
        "| capability | what it opens | " + " | ".join(roles) + " |",
        "|---|---|" + "---|" * len(roles),
    ]
    for cap in access.CAPABILITIES:
        marks = " | ".join("✓" if cap in access.ROLE_CAPS[r] else "" for r in roles)
        lines.append(f"| `{cap}` | {access.CAPABILITY_TEXT[cap]} | {marks} |")
    lines += [
        "",
        f"`{access.PUBLIC}`: open to everyone; `{access.SIGNED_IN}`: any signed-in account. `hotline.roster` acts",
        "on the city-wide roster and so needs a city-wide grant.",
        "",
        "## Pages",
        "",
        "| URL name | path | capability |",
        "|---|---|---|",
    ]
    for name, path, cap in sorted(pages(), key=lambda p: p[1]):
        lines.append(f"| `{name}` | `/{path}` | `{cap}` |")
    lines += [
        "",
        "Pages that show a form and take its answer declare the capability to read them; the write inside",
        "demands its own capability (e.g. the roster page needs `hotline.read`, adding a shift `hotline.roster`).",
        "",
        "## API operations",
        "",
        "| method | path | operation | capability |",
        "|---|---|---|---|",
    ]
    for method, path, name, cap in operations():
        lines.append(f"| {method} | `{path}` | `{name}` | `{cap}` |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import os
    import sys

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cordon.config.settings")
    django.setup()
    sys.stdout.write(render())
