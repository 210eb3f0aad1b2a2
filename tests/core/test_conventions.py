"""Every app's ``actions.py`` holds writes only (DESIGN.md #2): each public function is a ``do_<verb>_<noun>``
that runs atomically, or a ``check_<...>`` validation; reads live in the app's ``queries.py``. A short
allow-list names the few exceptions and why."""
from __future__ import annotations

import importlib
import inspect
import pkgutil

import cordon

#: public non-``do_`` functions allowed in an actions module, with the reason
ALLOWED = {
    "cordon.core.actions": {"lock": "the row lock every action takes", "serialize": "the advisory lock actions take",
                            "serialize_all": "the advisory locks a batch action takes, in one statement"},
    "cordon.places.actions": {"masked": "the audit form of a resident field, shared with the bulk importer's rows"},
    "cordon.zones.actions": {"save_cached": "writes the engine's cached answers (no domain change): the tick's "
                                            "bulk write, also the tick bench's set-up"},
}


def _actions_modules():
    for info in pkgutil.iter_modules(cordon.__path__):
        if not info.ispkg:
            continue
        try:
            yield importlib.import_module(f"cordon.{info.name}.actions")
        except ModuleNotFoundError:
            continue


def _public_functions(module):
    for name, fn in vars(module).items():
        if inspect.isfunction(fn) and fn.__module__ == module.__name__ and not name.startswith("_"):
            yield name, fn


def test_actions_modules_are_found():
    names = {m.__name__ for m in _actions_modules()}
    assert {"cordon.cases.actions", "cordon.care.actions", "cordon.supplies.actions", "cordon.zones.actions"} <= names


def test_actions_hold_only_writes_and_checks():
    odd = []
    for module in _actions_modules():
        allowed = ALLOWED.get(module.__name__, {})
        for name, _fn in _public_functions(module):
            if not name.startswith(("do_", "check_")) and name not in allowed:
                odd.append(f"{module.__name__}.{name}")
    assert odd == [], "reads go to the app's queries.py, writes are named do_*: " + ", ".join(odd)


def test_every_write_is_atomic():
    """A ``do_*`` runs in a transaction: ``@transaction.atomic`` or a ``with transaction.atomic()`` block."""
    loose = []
    for module in _actions_modules():
        for name, fn in _public_functions(module):
            if name.startswith("do_") and "transaction.atomic" not in inspect.getsource(inspect.unwrap(fn)) \
                    and not hasattr(fn, "__wrapped__"):
                loose.append(f"{module.__name__}.{name}")
    assert loose == []


def test_allow_list_is_current():
    for module_name, names in ALLOWED.items():
        module = importlib.import_module(module_name)
        for name in names:
            assert inspect.isfunction(getattr(module, name, None)), f"{module_name}.{name} is gone: drop it here"


def test_no_module_over_800_lines():
    """A module a maintainer reads whole stays under 800 lines (migrations aside): past that, it is split into the
    parts it holds (as ``screening/ingest/`` was)."""
    from pathlib import Path

    root = Path(cordon.__file__).parent
    long = {str(p.relative_to(root)): n for p in root.rglob("*.py") if "migrations" not in p.parts
            and (n := len(p.read_text(encoding="utf-8").splitlines())) > 800}
    assert not long, long
