"""Files out: every list of the pages as CSV or XLSX, with the page's own filters, streamed in constant memory.

A list declares its columns once (``Listing``: a bilingual header, how a value is read from a row, and for
personal data the mask it shows under). ``respond`` answers the export of a list for a request: the rows are
the page's queryset (the same queries function the page calls), narrowed to where the user holds the
``export`` capability too, counted, audited (one row: which list, filters, how many rows, masked or not) and
streamed. Personal data is masked unless the user may unmask over the whole of what they may export and asks
for it with a reason (a POST from the export box, so the reason stays out of server logs); that export is
audited with its reason.

CSV is UTF-8 with a byte order mark (Excel then reads Chinese); text that would start a formula is quoted
with ``'``. XLSX is written here (``xlsx_chunks``: a zip of inline-string sheet XML, its central directory at
the end), a few thousand rows at a time (openpyxl's write-only mode keeps the same memory bound; which of the
two is faster here has not been measured).

Speed (``cordon bench files``): rows are read as tuples, each file row is one generated function of the row's
positions (``Listing.cell_function``) whose labels, dates and computed values are looked up after their first
occurrence, and on PostgreSQL a thread reads the next chunks on its own connection while the file is written.
"""
from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import operator
import queue
import re
import threading
import zipfile
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from django.core.exceptions import PermissionDenied
from django.db import connections, transaction
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
    function of the row), for personal data the function that masks it, and for a coded value the function
    that gives its label in the page's language (remembered per value: see ``labels``)."""

    zh: str
    en: str
    value: str | Callable
    mask: Callable[[str], str] | None = None
    label: Callable | None = None

    @property
    def header(self) -> str:
        return f"{self.zh} / {self.en}"

    def getter(self) -> Callable:
        get = operator.itemgetter(self.value) if isinstance(self.value, str) else self.value
        return _through(get, self.label) if self.label is not None else get


@dataclass(frozen=True)
class Listing:
    """An exportable list: its name (the file's and the audit row's), title, the capability its page needs
    (the rows are read under it and under ``export``), the fields a row holds (``values(*fields)``), further
    values the database computes (``expressions``: name -> expression), values computed here from others
    (``computed``: name -> (the keys it reads, function of their values); remembered per distinct arguments,
    so a long list pays once for each date or code) and its columns."""

    name: str
    zh: str
    en: str
    cap: str
    fields: tuple[str, ...]
    columns: tuple[Column, ...]
    computed: dict = field(default_factory=dict)
    expressions: dict = field(default_factory=dict)
    personal: bool = field(init=False, default=False)

    def __post_init__(self):
        object.__setattr__(self, "personal", any(c.mask for c in self.columns))

    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def values(self, qs):
        """``qs`` as the row mappings ``row_function`` reads (a page's printed list)."""
        return qs.values(*self.fields, **self.expressions)

    def row_function(self, masked: bool) -> Callable[[dict], list]:
        """A function from a row mapping (``values``) to its cell values, masked where asked."""
        getters = []
        for c in self.columns:
            get = c.getter()
            getters.append(_masked(get, c.mask) if masked and c.mask is not None else get)
        computed = [(name, operator.itemgetter(*args), _remembered(fn, len(args)))
                    for name, (args, fn) in self.computed.items()]

        def cells(row: dict) -> list:
            for name, args, fn in computed:
                row[name] = fn(args(row))
            return [g(row) for g in getters]

        return cells

    def tuples(self, qs):
        """``qs`` as the row tuples ``cell_function`` reads: ``fields`` then ``expressions``, in order."""
        return qs.values_list(*self.fields, *self.expressions.values())

    def cell_function(self, masked: bool, fmt: str) -> Callable[[tuple], list]:
        """A function from a row tuple (``tuples``) to what a file's row holds: for CSV text and numbers, text
        that a spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@``) quoted with ``'``; for XLSX
        each cell's XML (``xml_cell``). Masked where asked; a label, a date or a computed value is written once
        per distinct value and then looked up, which is what lets a city-wide list stream at 100 000 rows a
        second."""
        where = {k: i for i, k in enumerate((*self.fields, *self.expressions))}
        plain = _plain_values(_("yes"), _("no"))
        cells, reads = {}, []
        for n, c in enumerate(self.columns):
            if not isinstance(c.value, str):
                raise ValueError(f"{self.name}: column {c.en!r} reads a function, not a key")
            conv = None
            if c.value in self.computed:
                args, fn = self.computed[c.value]
                read = ", ".join(f"r[{where[a]}]" for a in args)
                read = f"({read},)" if len(args) > 1 else read
                conv = _remembered(fn, len(args))
            else:
                read = f"r[{where[c.value]}]"
            if masked and c.mask is not None:
                conv = _then(conv, lambda v, mask=c.mask: mask(v or ""))
            elif c.label is not None:
                conv = _then(conv, lambda v, label=c.label: label(v) if v not in (None, "") else "")
            cell = _cell(conv, plain, fmt)
            # a label or a computed value repeats down the list: its cell is remembered too
            cells[f"c{n}"] = labels(cell) if conv is not None and not (masked and c.mask) else cell
            reads.append(f"c{n}({read})")
        # one function reading the row's values by position: what runs for every row of the file
        exec(f"def row_cells(r):\n    return [{', '.join(reads)}]", cells)  # noqa: S102 - generated from positions
        return cells["row_cells"]


def _remembered(fn: Callable, arity: int) -> Callable:
    """``fn`` of ``arity`` arguments as a function of one value (the argument, or their tuple), remembered per
    distinct value (``labels``)."""
    return labels(fn if arity == 1 else lambda args: fn(*args))


def _then(first: Callable | None, second: Callable) -> Callable:
    return second if first is None else lambda v: second(first(v))


def _cell(conv: Callable | None, plain: Callable, fmt: str) -> Callable:
    """The file's cell of a value: ``conv`` first (when given), then text as it is and anything else through
    ``plain`` (remembered per value, up to ``LABELS`` of them); for CSV, text quoted against formulas; for XLSX,
    the cell's XML. Written out in one function: it runs for every cell of a file."""
    formula, special, escape = _FORMULA, _XML_SPECIAL.search, _xml_text
    text, end = '<c t="inlineStr"><is><t>', "</t></is></c>"
    other = labels(plain if fmt == "csv" else (lambda v: xml_cell(plain(v))))

    if fmt == "csv":
        def cell(v):
            if conv is not None:
                v = conv(v)
            if type(v) is str:
                return "'" + v if v and v[0] in formula else v
            return other(v)
    else:
        def cell(v):
            if conv is not None:
                v = conv(v)
            if type(v) is str:
                return text + (escape(v) if special(v) else v) + end if v else "<c/>"
            return other(v)

    return cell


#: the masks a column of personal data names in an ``exports.yaml`` (one value, or a list of them)
MASKS = {"name": ids.mask_name, "id": ids.mask_id_number, "phone": ids.mask_phone,
         "names": lambda v: "、".join(ids.mask_name(x) for x in v or ()),
         "phones": lambda v: " ".join(ids.mask_phone(x) for x in v or () if x)}


def declared(package: str, name: str, *, reads: tuple[str, ...] = (), computed: dict | None = None,
             expressions: dict | None = None, provided: tuple[str, ...] = (), **functions) -> Listing:
    """The list ``name`` as the app ``package`` declares it in its ``exports.yaml``: a title ("中文 / English"),
    the capability its page reads it under, and its columns, each ``[key, 中文, English]`` or
    ``[key, 中文, English, how]``. ``key`` is a field of ``values()`` or a name of ``computed`` (name ->
    (the keys it reads, function of their values)); ``how`` is a mask (``name``, ``id``, ``phone``) or the name
    of a keyword function giving the cell from the value (a label, remembered per value: see ``labels``).
    ``reads``: further fields to read; ``provided``: keys of a printed list's own row mappings that are no
    field."""
    spec = _declarations(package)[name]
    computed = computed or {}
    columns = []
    for key, zh, en, *how in spec["columns"]:
        if how and how[0] in MASKS:
            columns.append(Column(zh, en, key, MASKS[how[0]]))
        elif how:
            columns.append(Column(zh, en, key, label=labels(functions[how[0]])))
        else:
            columns.append(Column(zh, en, key))
    keys = [c[0] for c in spec["columns"]]
    needed = [a for args, _fn in computed.values() for a in args]
    fields = tuple(dict.fromkeys([k for k in keys + list(reads) + needed
                                  if k not in computed and k not in (expressions or {}) and k not in provided]))
    zh, _sep, en = spec["title"].partition(" / ")
    return Listing(name, zh, en, spec["cap"], fields, tuple(columns), computed, expressions or {})


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


def _through(get: Callable, fn: Callable) -> Callable:
    def value(row):
        v = get(row)
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


def xml_cell(v) -> str:
    """A sheet cell holding a text (inline: no shared-strings table to hold in memory) or a number."""
    if type(v) is str:
        return '<c t="inlineStr"><is><t>' + (_xml_text(v) if _XML_SPECIAL.search(v) else v) + "</t></is></c>" \
            if v else "<c/>"
    return f"<c><v>{v!r}</v></c>"


def xlsx_chunks(headers: list[str], rows: Iterable[list], sheet: str = "Sheet1", *,
                written: bool = False) -> Iterator[bytes]:
    """An XLSX workbook of one sheet (a bold, frozen header row, then ``rows`` of text and numbers, or of their
    cells' XML already when ``written``), ``CHUNK`` rows per piece."""
    sink = _Sink()
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
                lines.append("<row>" + "".join(row if written else [xml_cell(v) for v in row]) + "</row>")
                if len(lines) == CHUNK:
                    out.write("".join(lines).encode("utf-8", "replace"))
                    lines.clear()
                    yield sink.take()
            out.write(("".join(lines) + _SHEET_TAIL).encode("utf-8", "replace"))
    yield sink.take()


# ---------------------------------------------------------------------------------------------- answering

def file_rows(listing: Listing, qs, *, masked: bool, fmt: str = "xlsx") -> Iterator[list]:
    """The cells of every row of ``qs`` (read ``CHUNK`` at a time as tuples): text and numbers (see
    ``Listing.cell_function``)."""
    return map(listing.cell_function(masked, fmt), _fetched(listing.tuples(qs)))


def _fetched(qs) -> Iterator[tuple]:
    """The rows of ``qs``, ``CHUNK`` at a time. On PostgreSQL outside a transaction (a streamed response is,
    once its view returned) a thread with its own connection reads the next chunks while this one writes the
    file: the database's work then overlaps Python's instead of adding to it. At most ``AHEAD`` chunks wait;
    the reader stops when the file is abandoned (a client that went away)."""
    connection = connections[qs.db]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield from qs.iterator(chunk_size=CHUNK)
        return
    chunks: queue.Queue = queue.Queue(maxsize=AHEAD)
    stop = threading.Event()

    def read():
        try:
            # In a transaction of its own the cursor streams (outside one, PostgreSQL would run the whole query
            # and keep its result before the first row came back), and the page's sort stays in memory.
            with transaction.atomic(using=qs.db):
                with connections[qs.db].cursor() as cursor:
                    cursor.execute("SET LOCAL work_mem = '64MB'")
                batch = []
                for row in qs.iterator(chunk_size=CHUNK):
                    batch.append(row)
                    if len(batch) == CHUNK:
                        if not _put(chunks, batch, stop):
                            return
                        batch = []
                _put(chunks, batch, stop)
                _put(chunks, None, stop)
        except BaseException as exc:  # handed to the writer, which raises it
            _put(chunks, exc, stop)
        finally:
            connections.close_all()

    reader = threading.Thread(target=read, name="export-reader", daemon=True)
    reader.start()
    try:
        while (batch := chunks.get()) is not None:
            if isinstance(batch, BaseException):
                raise batch
            yield from batch
    finally:
        stop.set()
        reader.join()


def _put(chunks: queue.Queue, item, stop: threading.Event) -> bool:
    """Hand ``item`` to the writer unless it stopped reading (False then)."""
    while not stop.is_set():
        try:
            chunks.put(item, timeout=0.5)
            return True
        except queue.Full:
            continue
    return False


#: chunks read ahead of the file being written
AHEAD = 4


def stream(listing: Listing, qs, fmt: str, *, masked: bool) -> Iterator[bytes]:
    """The file's bytes, piece by piece, in the language active now (the response is streamed after the view
    returned): the same code the export pages answer with, and the bench times."""
    language = translation.get_language()
    with translation.override(language):
        rows = file_rows(listing, qs, masked=masked, fmt=fmt)
        if fmt == "csv":
            yield from csv_chunks(listing.headers(), rows)
        else:
            yield from xlsx_chunks(listing.headers(), rows, sheet=listing.zh, written=True)


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
    sub = Listing(listing.name, listing.zh, listing.en, listing.cap, listing.fields, picked, listing.computed,
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
