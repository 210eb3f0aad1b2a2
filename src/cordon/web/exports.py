"""Files out: every list of the pages as CSV or XLSX, with the page's own filters, streamed in constant memory.

A list declares its columns once (``Listing``: a bilingual header, how a value is read from a row, and for
personal data the mask it shows under). ``respond`` answers the export of a list for a request: the rows are
the page's queryset (the same queries function the page calls), narrowed to where the user holds the
``export`` capability too, counted, audited (one row: which list, filters, how many rows, masked or not) and
streamed. Personal data is masked unless the user may unmask over the whole of what they may export and asks
for it with a reason (a POST from the export box, so the reason stays out of server logs); that export is
audited with its reason.

CSV is UTF-8 with a byte order mark (Excel then reads Chinese); text that would start a formula is quoted
with ``'``. XLSX is written here (``XlsxStream``: a zip of inline-string sheet XML, its central directory at
the end), a few thousand rows at a time (openpyxl's write-only mode keeps the same memory bound; which of the
two is faster here has not been measured).
"""
from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import operator
import re
import zipfile
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cordon.core import access, clock, ids
from cordon.core.actions import do_record_export

#: rows fetched from the database (and written out) at a time
CHUNK = 2000
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@dataclass(frozen=True)
class Column:
    """One column: its header in Chinese and English, the value of a row (a key of the row mapping, or a
    function of the row), and for personal data the function that masks it."""

    zh: str
    en: str
    value: str | Callable
    mask: Callable[[str], str] | None = None

    @property
    def header(self) -> str:
        return f"{self.zh} / {self.en}"

    def getter(self) -> Callable:
        return operator.itemgetter(self.value) if isinstance(self.value, str) else self.value


@dataclass(frozen=True)
class Listing:
    """An exportable list: its name (the file's and the audit row's), title, the capability its page needs
    (the rows are read under it and under ``export``), the fields a row mapping holds (``values(*fields)``,
    with ``prepare`` turning each row's mapping into what the columns read when set) and its columns."""

    name: str
    zh: str
    en: str
    cap: str
    fields: tuple[str, ...]
    columns: tuple[Column, ...]
    prepare: Callable | None = None
    #: further values a row mapping holds, as ``values(**expressions)`` computes them in the database
    expressions: dict = field(default_factory=dict)
    personal: bool = field(init=False, default=False)

    def __post_init__(self):
        object.__setattr__(self, "personal", any(c.mask for c in self.columns))

    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def row_function(self, masked: bool) -> Callable[[dict], tuple]:
        """A function from a row mapping to its cell values (masked where asked). When every column reads a
        key of the row, one ``itemgetter`` reads them all (the common case of a long list)."""
        getters = []
        for c in self.columns:
            get = c.getter()
            if masked and c.mask is not None:
                get = _masked(get, c.mask)
            getters.append(get)
        if all(isinstance(c.value, str) and not (masked and c.mask) for c in self.columns):
            keys = [c.value for c in self.columns]
            get_all = operator.itemgetter(*keys) if len(keys) > 1 else (lambda row: (row[keys[0]],))
        else:
            get_all = lambda row: [g(row) for g in getters]  # noqa: E731
        prepare = self.prepare
        if prepare is None:
            return get_all
        return lambda row: get_all(prepare(row))


#: the masks a column of personal data names in an ``exports.yaml`` (one value, or a list of them)
MASKS = {"name": ids.mask_name, "id": ids.mask_id_number, "phone": ids.mask_phone,
         "names": lambda v: "、".join(ids.mask_name(x) for x in v or ()),
         "phones": lambda v: " ".join(ids.mask_phone(x) for x in v or () if x)}


def declared(package: str, name: str, *, reads: tuple[str, ...] = (), computed: tuple = (),
             prepare: Callable | None = None, expressions: dict | None = None, **functions) -> Listing:
    """The list ``name`` as the app ``package`` declares it in its ``exports.yaml``: a title ("中文 / English"),
    the capability its page reads it under, and its columns, each ``[key, 中文, English]`` or
    ``[key, 中文, English, how]``. ``key`` is a field of ``values()`` (or a value ``prepare`` adds: list it in
    ``computed``); ``how`` is a mask (``name``, ``id``, ``phone``) or the name of a keyword function giving the
    cell from the value (a label, remembered per value: see ``labels``). ``reads``: further fields ``prepare``
    needs."""
    spec = _declarations(package)[name]
    columns = []
    for key, zh, en, *how in spec["columns"]:
        if how and how[0] in MASKS:
            columns.append(Column(zh, en, key, MASKS[how[0]]))
        elif how:
            columns.append(Column(zh, en, _through(key, labels(functions[how[0]]))))
        else:
            columns.append(Column(zh, en, key))
    keys = [c[0] for c in spec["columns"]]
    fields = tuple(dict.fromkeys([k for k in keys if k not in computed] + list(reads)))
    zh, _sep, en = spec["title"].partition(" / ")
    return Listing(name, zh, en, spec["cap"], fields, tuple(columns), prepare, expressions or {})


def _declarations(package: str) -> dict:
    """An app's ``exports.yaml`` (read once), each list's capability checked against ``core.access``."""
    found = _LOADED.get(package)
    if found is None:
        from importlib.resources import files

        import yaml

        found = yaml.safe_load(files(package).joinpath("exports.yaml").read_text(encoding="utf-8"))
        for name, spec in found.items():
            if spec["cap"] not in access.CAPABILITIES:
                raise ValueError(f"{package}/exports.yaml: {name}: cap: unknown capability {spec['cap']!r}")
        _LOADED[package] = found
    return found


_LOADED: dict[str, dict] = {}


def _through(key: str, fn: Callable) -> Callable:
    def value(row):
        v = row[key]
        return fn(v) if v not in (None, "") else ""

    return value


def labels(fn: Callable) -> Callable:
    """``fn`` (a key's label in the page's language) remembered per value: a file of 500 000 rows asks for the
    same few labels over and over, and a translated label costs a catalogue lookup each time. A listing is
    built per export, so the language cannot change under it. Values that cannot be remembered (a dict, a
    list) or beyond the first ``LABELS`` distinct ones are passed through."""
    seen: dict = {}

    def label(value):
        try:
            return seen[value]
        except KeyError:
            out = fn(value)
            if len(seen) < LABELS:
                seen[value] = out
            return out
        except TypeError:
            return fn(value)

    return label


#: how many distinct values ``labels`` remembers per column
LABELS = 4096


def _masked(get, mask):
    return lambda row: mask(get(row) or "")


# ---------------------------------------------------------------------------------------------- values

def _plain_values(yes: str, no: str) -> Callable:
    """A function from a cell value that is not text to what a file holds: text, a number, or "" for nothing.
    Dates are few in a long list and are written once each."""
    tz = timezone.get_current_timezone()
    days: dict = {}

    def plain(v):
        t = type(v)
        if v is None:
            return ""
        if t is dt.date:
            text = days.get(v)
            if text is None:
                text = days[v] = v.isoformat()
            return text
        if t is str or t is int or t is float:
            return v
        if t is bool:
            return yes if v else no
        if t is dt.datetime:
            return timezone.localtime(v, tz).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(v) else \
                v.strftime("%Y-%m-%d %H:%M")
        if t is decimal.Decimal:
            return int(v) if v == v.to_integral_value() else float(v)
        if isinstance(v, (list, tuple)):
            return ", ".join(str(plain(x)) for x in v)
        return str(v)

    return plain


def compact(value) -> str:
    """A JSON value (an audit row's before and after) on one line, Chinese readable."""
    import json

    if value in (None, {}, []):
        return ""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


_FORMULA = "=+-@\t\r"


def csv_chunks(headers: list[str], rows: Iterable[list]) -> Iterator[bytes]:
    """CSV in UTF-8 with a byte order mark, ``CHUNK`` rows per piece (``rows`` as ``file_rows`` gives them
    for CSV: text that would start a formula already quoted)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(headers)
    yield ("\ufeff" + buf.getvalue()).encode("utf-8")
    buf.seek(0)
    buf.truncate()
    batch: list = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            writer.writerows(batch)
            batch.clear()
            yield buf.getvalue().encode("utf-8", "replace")
            buf.seek(0)
            buf.truncate()
    writer.writerows(batch)
    yield buf.getvalue().encode("utf-8", "replace")


# ---------------------------------------------------------------------------------------------- XLSX

_XML_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _xml_text(s: str) -> str:
    if _XML_SPECIAL.search(s) is None:
        return s
    return _XML_SPECIAL.sub(lambda m: _XML_ESCAPES.get(m.group(), ""), s)


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>')
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'styles" Target="styles.xml"/></Relationships>')
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
    'state="frozen"/></sheetView></sheetViews><sheetData>')
_SHEET_TAIL = "</sheetData></worksheet>"


class _Sink(io.RawIOBase):
    """A write-only, unseekable stream whose bytes are taken out piece by piece (the zip is written into it)."""

    def __init__(self):
        super().__init__()
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self._parts.append(bytes(b))
        return len(b)

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


def xlsx_chunks(headers: list[str], rows: Iterable[list], sheet: str = "Sheet1") -> Iterator[bytes]:
    """An XLSX workbook of one sheet (a bold, frozen header row, then ``rows`` of text and numbers), ``CHUNK``
    rows per piece. Text is written inline (no shared-strings table to hold in memory)."""
    sink = _Sink()
    special, escape = _XML_SPECIAL.search, _xml_text
    text_cell, end_cell = '<c t="inlineStr"><is><t>', "</t></is></c>"
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", _WORKBOOK.format(name=_xml_text(sheet.replace('"', "'"))[:31]))
        zf.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        zf.writestr("xl/styles.xml", _STYLES)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            head = "".join('<c t="inlineStr" s="1"><is><t>' + _xml_text(h) + "</t></is></c>" for h in headers)
            out.write((_SHEET_HEAD + "<row>" + head + "</row>").encode("utf-8"))
            yield sink.take()
            lines: list[str] = []
            for row in rows:
                if special("".join(map(str, row))) is not None:  # one look at the whole row, escape rarely
                    row = [escape(v) if type(v) is str else v for v in row]
                lines.append("<row>" + "".join([(text_cell + v + end_cell if v else "<c/>") if type(v) is str
                                                 else f"<c><v>{v!r}</v></c>" for v in row]) + "</row>")
                if len(lines) == CHUNK:
                    out.write("".join(lines).encode("utf-8", "replace"))
                    lines.clear()
                    yield sink.take()
            out.write(("".join(lines) + _SHEET_TAIL).encode("utf-8", "replace"))
    yield sink.take()


# ---------------------------------------------------------------------------------------------- answering

def file_rows(listing: Listing, qs, *, masked: bool, fmt: str = "xlsx") -> Iterator[list]:
    """The cells of every row of ``qs`` (read ``CHUNK`` at a time with ``values(*fields, **expressions)``): text and
    numbers; for CSV, text a spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@``) starts with
    ``'``."""
    cells_of = listing.row_function(masked)
    plain = _plain_values(_("yes"), _("no"))
    rows = qs.values(*listing.fields, **listing.expressions).iterator(chunk_size=CHUNK)
    if fmt == "csv":
        formula = _FORMULA
        for row in rows:
            yield [("'" + v if v and v[0] in formula else v) if type(v) is str else plain(v) for v in cells_of(row)]
    else:
        for row in rows:
            yield [v if type(v) is str else plain(v) for v in cells_of(row)]


def stream(listing: Listing, qs, fmt: str, *, masked: bool) -> Iterator[bytes]:
    """The file's bytes, piece by piece, in the language active now (the response is streamed after the view
    returned): the same code the export pages answer with, and the bench times."""
    language = translation.get_language()
    with translation.override(language):
        rows = file_rows(listing, qs, masked=masked, fmt=fmt)
        if fmt == "csv":
            yield from csv_chunks(listing.headers(), rows)
        else:
            yield from xlsx_chunks(listing.headers(), rows, sheet=listing.zh)


def may_unmask(user) -> bool:
    """May the user reveal personal data in an export: does their unmask scope cover all of their export
    scope (so that no row of any list they export holds data they could not reveal on its page)?"""
    unmask = access.scope_for(user, access.UNMASK)
    if unmask.everything:
        return True
    grants = [g for g in access.grants_of(user) if access.role_has(g.role, access.EXPORT)]
    return bool(grants) and all(g.area is not None and unmask.contains(g.area) for g in grants)


def export_filters(request) -> dict:
    """The page's filters as the audit row keeps them (the query string without page and format)."""
    return {k: v[:200] for k, v in request.GET.items() if k not in ("page", "format")}


def respond(request, listing: Listing, qs, *, scope=None):
    """The export of ``listing`` for this request: ``qs`` is the page's filtered queryset (every page of it).
    ``?format=csv`` or ``xlsx``; a POST with ``unmask=1`` and a ``reason`` reveals personal data (when the
    user may, else 403). ``scope`` (an area) places the audit row; by default the user's own grant."""
    user = request.user
    if not (access.has_perm(user, access.EXPORT) and access.has_perm(user, listing.cap)):
        raise PermissionDenied
    fmt = request.POST.get("format") or request.GET.get("format") or "csv"
    if fmt not in FORMATS:
        return HttpResponseBadRequest(_("format: one of csv, xlsx"))
    masked, reason = True, ""
    if request.method == "POST" and request.POST.get("unmask") and listing.personal:
        if not may_unmask(user):
            raise PermissionDenied
        reason = (request.POST.get("reason") or "").strip()
        if not reason or len(reason) > 500 or "\x00" in reason:
            return HttpResponseBadRequest(_("reason: give why the full data are needed (at most 500 characters)"))
        masked = False
    qs = qs.for_user(user, access.EXPORT)
    count = qs.count()
    entry = do_record_export(listing.name, filters=export_filters(request), rows=count, fmt=fmt, masked=masked,
                             actor=user, reason=reason, scope=scope if scope is not None else _home(user))
    if qs.model is type(entry):  # the audit log's file holds what was counted, not its own export's row
        qs = qs.exclude(pk=entry.pk)
    response = StreamingHttpResponse(stream(listing, qs, fmt, masked=masked), content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{listing.name}-{clock.today().isoformat()}.{fmt}"'
    response["Cache-Control"] = "no-store"
    response["X-Rows"] = str(count)
    return response


def _home(user):
    """The area an export's audit row is filed under: the user's one export grant's area, if just one."""
    areas = {g.area_id: g.area for g in access.grants_of(user) if access.role_has(g.role, access.EXPORT)}
    return next(iter(areas.values())) if len(areas) == 1 else None


# ---------------------------------------------------------------------------------------------- printing

#: the most rows a printed list holds (a building's households; a longer list is cut, and says so)
PRINT_ROWS = 2000


def print_page(request, listing: Listing, rows: Iterable[dict], *, title: str, address: str, checks: tuple = (),
               columns: tuple[str, ...] = (), note: str = ""):
    """A door-to-door list to print on A4 (``web/print_list.html``: no navigation, a print button): the
    address and date on top, then one row per household or person with ``listing``'s columns (those whose
    English header is in ``columns``, all by default), masked as on the page, and an empty box per ``checks``
    heading. In Chinese unless the page asks ``?lang=en`` (``title``, ``checks`` and ``note`` may be lazy texts:
    they are translated here)."""
    from django.shortcuts import render

    picked = tuple(c for c in listing.columns if not columns or c.en in columns)
    sub = Listing(listing.name, listing.zh, listing.en, listing.cap, listing.fields, picked, listing.prepare,
                  listing.expressions)
    language = "en" if request.GET.get("lang") == "en" else "zh-hans"
    with translation.override(language):
        plain = _plain_values(_("yes"), _("no"))
        to_cells = sub.row_function(masked=True)
        table, cut = [], False
        for n, row in enumerate(rows):
            if n == PRINT_ROWS:
                cut = True
                break
            table.append([plain(v) for v in to_cells(row)])
        headers = [c.zh if language != "en" else c.en for c in picked]
        return render(request, "web/print_list.html", {
            "title": str(title), "address": address, "today": clock.today(), "headers": headers, "rows": table,
            "checks": [str(c) for c in checks], "span": len(headers) + len(checks) + 1, "note": str(note), "cut": cut, "print_lang": language,
            "other_lang": "" if language == "en" else "en"})
