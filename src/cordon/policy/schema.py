"""Declarative schemas for YAML files, with line-numbered errors. Pure: no Django.

A schema is built from field specs (``Str``, ``Int``, ``Bool``, ``Date``, ``Opt``, ``ListOf``, ``MapOf``,
``Struct``: types, required/optional keys, choices, patterns, nested lists and mappings). ``check_yaml``
composes the text into YAML nodes first, so every error carries the line it points at:

    data, errors = check_yaml(text, SPEC, file="desk.yaml", what="a desk configuration")
    load_yaml(path, SPEC, what=...) -> data            (raises Invalid: "FILE:LINE: field: reason" lines)

The policy pack loader (``policy/pack.py``) and the configuration files of care, hotline and supplies use it.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml

from cordon import tabular


@dataclass(frozen=True)
class SchemaError:
    line: int
    field: str
    reason: str
    file: str | None = None

    UNNAMED = ("<file>", "(file)")  # shown for a text with no file name, and for an error about the whole file

    def __str__(self) -> str:
        return f"{self.file or self.UNNAMED[0]}:{self.line}: {self.field or self.UNNAMED[1]}: {self.reason}"


class Invalid(ValueError):
    """A file that does not follow its schema; ``errors`` holds every error, the message one per line."""

    def __init__(self, errors: list, source: str | None = None, what: str = "file"):
        self.errors = list(errors)
        self.source = source
        head = f"invalid {what} {source}" if source else f"invalid {what}"
        super().__init__(head + ":\n" + "\n".join(str(e) for e in self.errors))


class _Bad:
    pass


BAD = _Bad()
IDENT = r"[a-z][a-z0-9_]*"


class Ctx:
    """Errors found so far, and the line of every field path seen (for checks made after the walk)."""

    def __init__(self) -> None:
        self.errors: list[SchemaError] = []
        self.lines: dict[str, int] = {}

    def err(self, node: yaml.Node | int, path: str, reason: str) -> None:
        line = node if isinstance(node, int) else node.start_mark.line + 1
        self.errors.append(SchemaError(line, path, reason))

    def line(self, path: str, default: int = 1) -> int:
        return self.lines.get(path, default)


_constructor = yaml.constructor.SafeConstructor()


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    t = node.tag.rsplit(":", 1)[-1]
    return {"str": "text", "int": "an integer", "bool": "true/false", "null": "empty", "float": "a number",
            "timestamp": "a date"}.get(t, t)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class Spec:
    nullable = False

    def __call__(self, node: yaml.Node, path: str, ctx: Ctx) -> Any:
        ctx.lines.setdefault(path, node.start_mark.line + 1)
        if self.nullable and isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
            return None
        return self.check(node, path, ctx)

    def check(self, node, path, ctx):  # pragma: no cover - abstract
        raise NotImplementedError


class Opt(Spec):
    nullable = True

    def __init__(self, inner: Spec):
        self.inner = inner

    def check(self, node, path, ctx):
        return self.inner.check(node, path, ctx)


class Str(Spec):
    def __init__(self, pattern: str | None = None, choices: tuple[str, ...] | None = None):
        self.pattern = re.compile(pattern) if pattern else None
        self.choices = choices

    def check(self, node, path, ctx):
        if not isinstance(node, yaml.ScalarNode) or not node.tag.endswith(":str"):
            ctx.err(node, path, f"expected text, got {_kind(node)}")
            return BAD
        v = node.value
        if not v.strip():
            ctx.err(node, path, "must not be empty")
            return BAD
        if self.choices is not None and v not in self.choices:
            ctx.err(node, path, f"{v!r} is not one of: {', '.join(self.choices)}")
            return BAD
        if self.pattern is not None and not self.pattern.fullmatch(v):
            ctx.err(node, path, f"{v!r} does not match {self.pattern.pattern}")
            return BAD
        return v


class Int(Spec):
    def __init__(self, min: int | None = None, max: int | None = None):
        self.min, self.max = min, max

    def check(self, node, path, ctx):
        if not isinstance(node, yaml.ScalarNode) or not node.tag.endswith(":int"):
            ctx.err(node, path, f"expected an integer, got {_kind(node)}")
            return BAD
        v = _constructor.construct_object(node)
        if self.min is not None and v < self.min:
            if self.min == 0:
                ctx.err(node, path, f"must not be negative (got {v})")
            else:
                ctx.err(node, path, f"must be at least {self.min} (got {v})")
            return BAD
        if self.max is not None and v > self.max:
            ctx.err(node, path, f"must be at most {self.max} (got {v})")
            return BAD
        return v


class Num(Spec):
    """An integer or a decimal number."""

    def __init__(self, min: float | None = None):
        self.min = min

    def check(self, node, path, ctx):
        if not isinstance(node, yaml.ScalarNode) or not node.tag.endswith((":int", ":float")):
            ctx.err(node, path, f"expected a number, got {_kind(node)}")
            return BAD
        v = _constructor.construct_object(node)
        if self.min is not None and v < self.min:
            ctx.err(node, path, f"must be at least {self.min} (got {v})")
            return BAD
        return v


class Bool(Spec):
    def check(self, node, path, ctx):
        if not isinstance(node, yaml.ScalarNode) or not node.tag.endswith(":bool"):
            ctx.err(node, path, f"expected true or false, got {_kind(node)}")
            return BAD
        return _constructor.construct_object(node)


class Date(Spec):
    def check(self, node, path, ctx):
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith((":timestamp", ":str")):
            try:
                return dt.date.fromisoformat(node.value.strip())
            except ValueError:
                pass
        ctx.err(node, path, f"expected a date YYYY-MM-DD, got {node.value if isinstance(node, yaml.ScalarNode) else _kind(node)!r}")
        return BAD


class ListOf(Spec):
    def __init__(self, item: Spec, unique: bool = False, ascending: bool = False, min_len: int = 0):
        self.item, self.unique, self.ascending, self.min_len = item, unique, ascending, min_len

    def check(self, node, path, ctx):
        if not isinstance(node, yaml.SequenceNode):
            ctx.err(node, path, f"expected a list, got {_kind(node)}")
            return BAD
        out, seen, prev = [], set(), None
        for i, sub in enumerate(node.value):
            p = f"{path}[{i}]"
            v = self.item(sub, p, ctx)
            if v is BAD:
                continue
            if self.unique and isinstance(v, (str, int)):
                if v in seen:
                    ctx.err(sub, p, f"{v!r} appears twice")
                    continue
                seen.add(v)
            if self.ascending and prev is not None and v < prev:
                ctx.err(sub, p, f"{v} comes after {prev}: list in ascending order")
            prev = v
            out.append(v)
        if len(node.value) < self.min_len:
            ctx.err(node, path, f"needs at least {self.min_len} item(s)")
        return out


def _mapping_items(node, path, ctx):
    """(key, key_node, value_node) with duplicate keys reported."""
    seen: set[str] = set()
    for knode, vnode in node.value:
        if not isinstance(knode, yaml.ScalarNode):
            ctx.err(knode, path, "keys must be text")
            continue
        k = str(knode.value)
        if k in seen:
            ctx.err(knode, _join(path, k), "duplicate key")
            continue
        seen.add(k)
        yield k, knode, vnode


class Struct(Spec):
    """A mapping with known fields. `sourced` adds `source` (text) and `unverified` (bool): True makes
    `source` required, "optional" allows both."""

    def __init__(self, fields: dict[str, tuple[Spec, bool]], sourced: bool | str = False):
        self.fields = dict(fields)
        if sourced:
            self.fields["source"] = (Str(), sourced is True)
            self.fields["unverified"] = (Bool(), False)

    def check(self, node, path, ctx):
        if not isinstance(node, yaml.MappingNode):
            ctx.err(node, path, f"expected a mapping, got {_kind(node)}")
            return BAD
        out: dict[str, Any] = {}
        present: set[str] = set()
        for k, knode, vnode in _mapping_items(node, path, ctx):
            p = _join(path, k)
            present.add(k)
            if k not in self.fields:
                ctx.err(knode, p, f"unknown key (allowed: {', '.join(self.fields)})")
                continue
            v = self.fields[k][0](vnode, p, ctx)
            if v is not BAD:
                out[k] = v
        for k, (_spec, required) in self.fields.items():
            if required and k not in present:
                ctx.err(node, _join(path, k), "required key missing")
        return out


class MapOf(Spec):
    def __init__(self, key: Spec, value: Spec, min_len: int = 0):
        self.key, self.value, self.min_len = key, value, min_len

    def check(self, node, path, ctx):
        if not isinstance(node, yaml.MappingNode):
            ctx.err(node, path, f"expected a mapping, got {_kind(node)}")
            return BAD
        out: dict[str, Any] = {}
        for k, knode, vnode in _mapping_items(node, path, ctx):
            p = _join(path, k)
            key = self.key.check(knode, p, ctx)
            if key is BAD:
                continue
            ctx.lines.setdefault(p, knode.start_mark.line + 1)
            v = self.value(vnode, p, ctx)
            if v is not BAD:
                out[key] = v
        if len(node.value) < self.min_len:
            ctx.err(node, path, f"needs at least {self.min_len} entries")
        return out


TEXT = Struct({"zh": (Str(), True), "en": (Str(), True)})  # a text in both languages


def check_yaml(text: str, spec: Spec, *, file: str | None = None, what: str = "a mapping",
               semantic: Callable[[Any, Ctx], None] | None = None, error=SchemaError) -> tuple[Any, list]:
    """(data, errors) of a YAML text checked against ``spec`` and then ``semantic`` (cross-field checks
    given the data and the context, whose ``line(path)`` finds a field's line). Errors are sorted by line
    and made with ``error(line, field, reason, file)``; data is None when there are errors."""
    ctx = Ctx()
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        return None, [error(line, "", f"not valid YAML: {exc.problem or exc}", file)]
    except yaml.YAMLError as exc:
        return None, [error(1, "", f"not valid YAML: {exc}", file)]
    if node is None:
        return None, [error(1, "", f"empty file: {what}", file)]
    d = spec(node, "", ctx)
    if d is not BAD and semantic is not None:
        semantic(d, ctx)
    errors = [error(e.line, e.field, e.reason, file) for e in sorted(ctx.errors, key=lambda e: (e.line, e.field))]
    return (None, errors) if errors else (d, [])


def load_yaml(path: str | os.PathLike, spec: Spec, *, what: str = "configuration",
              semantic: Callable[[Any, Ctx], None] | None = None) -> Any:
    """The checked data of a YAML file; raises Invalid (every error as FILE:LINE: field: reason)."""
    p = Path(path)
    data, errors = check_yaml(tabular.read_text(p), spec, file=str(p), what=f"{what} is a mapping",
                              semantic=semantic)
    if errors:
        raise Invalid(errors, str(p), what)
    return data
