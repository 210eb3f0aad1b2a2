"""Layer rules the import contract (pyproject's [tool.importlinter]) cannot express: pages and API modules
never write domain tables themselves; every write goes through an action that records its audit row."""
from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "cordon"
ENTRY_POINTS = ("views.py", "api.py", "forms.py", "urls.py")
WRITES = {"save", "delete", "bulk_create", "bulk_update", "get_or_create", "update_or_create", "create", "update"}
#: Writes that are not domain state: (file relative to src/cordon, method) with why.
ALLOWED = {
    ("core/api.py", "update"): "an API token's last-used time (authentication bookkeeping, throttled)",
}


def _is_queryset_chain(node: ast.AST) -> bool:
    """True for ``X.objects...`` / ``....filter(...)`` receivers (not a dict's or a context's ``update``)."""
    while True:
        if isinstance(node, ast.Attribute):
            if node.attr in {"objects", "filter", "exclude", "all", "for_user", "select_for_update", "_set"} \
                    or node.attr.endswith("_set"):
                return True
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        else:
            return False


def _writes(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WRITES:
            method, receiver = node.func.attr, node.func.value
            if method in {"update", "create", "delete"} and not _is_queryset_chain(receiver):
                continue  # dict.update, context.update, a form's or a message's methods
            found.append((node.lineno, method))
    return found


def test_pages_and_api_write_only_through_actions():
    offences = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name not in ENTRY_POINTS or "migrations" in path.parts:
            continue
        rel = path.relative_to(SRC).as_posix()
        for line, method in _writes(path):
            if (rel, method) not in ALLOWED:
                offences.append(f"{rel}:{line}: .{method}() outside an action")
    assert not offences, "\n".join(offences)


def test_the_check_sees_a_write(tmp_path):
    bad = tmp_path / "views.py"
    bad.write_text("def v(r):\n    Thing.objects.filter(pk=1).update(x=2)\n    r.obj.save()\n    d = {}\n"
                   "    d.update(a=1)\n", encoding="utf-8")
    assert _writes(bad) == [(2, "update"), (3, "save")]
