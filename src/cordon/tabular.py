"""Text and tabular files (CSV, XLSX) read the same way by every importer and command, whatever the encoding.

Pure (no Django). The encoding is decided for the WHOLE file before a row is used, so a file is either read
completely or refused before anything is written:

- declared (``--encoding``): the whole file must decode in it;
- a byte-order mark: UTF-8 with BOM, UTF-16 (LE/BE);
- otherwise UTF-8 (strict, over every byte), then GB18030 (a superset of GBK and GB2312);
- anything else, or a NUL byte in an 8-bit text (a binary file), is refused with the line it happens on.

Problems with the file as a whole are ``FileError``; its ``str`` is ``FILE:LINE: reason`` (or ``FILE: reason``),
the one-line form the CLI prints. Importers subclass it for their own errors (``error=`` arguments below).

Spreadsheet cells are read as text where the file allows it (``cell_text``): an ID number stored by Excel as a
number has lost its last digits, and ``cordon.core.ids.id_number_error`` says so.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

BLOCK = 4 << 20

#: ``--encoding`` spellings -> the codec used to read the file
ENCODINGS = {
    "utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8-sig", "utf-8-bom": "utf-8-sig",
    "gb18030": "gb18030", "gbk": "gb18030", "gb2312": "gb18030", "cp936": "gb18030",
    "utf-16": "utf-16", "utf-16le": "utf-16-le", "utf-16-le": "utf-16-le", "utf-16be": "utf-16-be",
    "utf-16-be": "utf-16-be",
}
ENCODING_NAMES = ("utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16", "utf-16le", "utf-16be")

#: the longest CSV field accepted (Python's csv default); longer ones refuse the file, naming the line
FIELD_LIMIT = 131072


class FileError(ValueError):
    """A file that cannot be read as a whole. ``str``: ``FILE:LINE: reason`` (``FILE: reason`` without a line;
    just the reason without a file)."""

    def __init__(self, reason: str, *, path=None, line: int | None = None):
        super().__init__(reason)
        self.reason, self.path, self.line = reason, path, line

    def __str__(self) -> str:
        if self.path is None:
            return self.reason
        return f"{self.path}:{self.line}: {self.reason}" if self.line else f"{self.path}: {self.reason}"


@dataclass
class Encoding:
    codec: str                 # to open the file as text ("utf-8-sig" reads UTF-8 with or without a BOM)
    name: str                  # as told to people: UTF-8, UTF-8 with BOM, GB18030, UTF-16
    sha256: str | None = None  # of the bytes, when asked for (hashed on a second thread while decoding)

    @property
    def utf8(self) -> bool:
        """The bytes are UTF-8 (with or without BOM): byte-level readers can use them as they are."""
        return self.codec in ("utf-8", "utf-8-sig")


def codec_of(declared: str, *, path=None, error=FileError) -> str:
    codec = ENCODINGS.get(declared.strip().lower().replace("_", "-"))
    if codec is None:
        raise error(f"unknown encoding {declared!r}; use one of {', '.join(ENCODING_NAMES)}", path=path)
    return codec


def _name(codec: str) -> str:
    return {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "gb18030": "GB18030/GBK"}.get(codec, codec.upper())


class _Bad(Exception):
    def __init__(self, offset: int, reason: str, line: int | None = None):
        self.offset, self.reason, self.line = offset, reason, line


def _line_at(fh, offset: int) -> int:
    """The line (1-based) holding byte ``offset`` (counted only when a file is refused)."""
    fh.seek(0)
    line, done = 1, 0
    while done < offset:
        block = fh.read(min(BLOCK, offset - done))
        if not block:
            break
        line += block.count(b"\n")
        done += len(block)
    return line


def _check(fh, codec: str, h, skip: int = 0, nul_everywhere: bool = True) -> None:
    """Decode the whole file strictly in ``codec`` (raises ``_Bad``), feeding ``h`` (a hash) with every byte
    read. ``skip``: bytes of a byte-order mark at the start. ``nul_everywhere`` False: a NUL byte refuses the
    file only in its first block (a UTF-8 reader that refuses NUL bytes in its rows itself). The common case
    (UTF-8) costs one strict decoding of the non-ASCII blocks besides the hash: no line counting."""
    fh.seek(0)
    dec = codecs.getincrementaldecoder(codec)("strict")
    wide = codec.startswith("utf-16")
    nul_everywhere = nul_everywhere or codec == "gb18030"
    pos, wline = 0, 1  # file offset of ``data``; UTF-16: line at the start of the block
    while True:
        block = fh.read(BLOCK)
        if h is not None:
            h.update(block)
        if not block:
            break
        data = block[skip:] if pos == 0 else block
        pos += len(block) - len(data)
        if (pos <= skip or nul_everywhere) and not wide and b"\x00" in data:
            raise _Bad(pos + data.index(b"\x00"), "binary data (a NUL byte), not a text file")
        if not wide and data.isascii() and not dec.getstate()[0]:
            pos += len(data)  # ASCII is valid in every accepted 8-bit encoding: nothing to decode
            continue
        try:
            text = dec.decode(data)
        except UnicodeDecodeError as exc:
            at = max(0, min(exc.start, len(data)))
            bad = data[at:at + 1].hex() or "end"
            raise _Bad(pos + at, f"not {_name(codec)} text (byte 0x{bad} at offset {pos + at})",
                       line=wline if wide else None) from None
        if wide:
            if "\x00" in text:
                raise _Bad(pos, "binary data (a NUL character), not a text file",
                           line=wline + text.count("\n", 0, text.index("\x00")))
            wline += text.count("\n")
        pos += len(data)
    try:
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        raise _Bad(pos, f"not {_name(codec)} text (the file ends inside a character)",
                   line=wline if wide else None) from None


def detect(path, declared: str | None = None, *, digest: bool = False, error=FileError,
           nul_everywhere: bool = True) -> Encoding:
    """The encoding of the whole file at ``path`` (see the module docstring); ``digest``: its sha256 as well,
    computed on a second thread meanwhile. Raises ``error`` (a ``FileError`` class) naming the line when the file
    is refused.
    ``nul_everywhere`` False: a UTF-8 file is refused for NUL bytes in its first block only (for bulk readers
    that check their rows for NUL bytes themselves, sparing a scan)."""
    path = Path(path)
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise error(exc.strerror or str(exc), path=path) from None
    # the hash runs on another thread while this one decodes (hashlib lets go of the interpreter lock)
    pool = ThreadPoolExecutor(1, thread_name_prefix="cordon-sha256") if digest else None
    sha = pool.submit(sha256_of, path) if pool else None
    try:
        with fh:
            enc = _detect(fh, path, declared, error, nul_everywhere)
        if sha is not None:
            enc.sha256 = sha.result()
        return enc
    finally:
        if pool is not None:
            pool.shutdown(wait=True)


def _detect(fh, path: Path, declared, error, nul_everywhere: bool) -> Encoding:
    head = fh.read(4)
    if declared:
        tries = [codec_of(declared, path=path, error=error)]
        if tries[0] == "utf-8" and head.startswith(codecs.BOM_UTF8):
            tries = ["utf-8-sig"]
    elif head.startswith(codecs.BOM_UTF8):
        tries = ["utf-8-sig"]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        tries = ["utf-16"]
    else:
        tries = ["utf-8", "gb18030"]
    first: _Bad | None = None
    for codec in tries:
        skip = 3 if codec == "utf-8-sig" and head.startswith(codecs.BOM_UTF8) else 0
        try:
            _check(fh, codec, None, skip, nul_everywhere)
        except _Bad as bad:
            if bad.line is None:
                bad.line = _line_at(fh, bad.offset)
            if len(tries) == 1:
                hint = "" if declared else "; save the file as UTF-8 or name its encoding"
                raise error(bad.reason + hint, path=path, line=bad.line) from None
            if bad.reason.startswith("binary"):
                raise error(bad.reason, path=path, line=bad.line) from None
            first = first or bad
            continue
        return Encoding("utf-8-sig" if codec == "utf-8" else codec, _name(codec))
    assert first is not None
    raise error(f"not UTF-8, GB18030/GBK or UTF-16 text ({first.reason.split('(', 1)[-1]}; "
                "save the file as UTF-8 or name its encoding", path=path, line=first.line)


def sha256_of(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_text(path, declared: str | None = None, *, error=FileError) -> str:
    """The whole text of a (small) file, its encoding detected or declared; a leading BOM is dropped."""
    enc = detect(path, declared, error=error)
    with open(path, encoding=enc.codec, newline="") as fh:
        text = fh.read()
    return text[1:] if text.startswith("\ufeff") else text


def open_text(path, enc: Encoding):
    """The file as a text stream for ``csv`` (newline="", BOM dropped)."""
    return open(path, encoding=enc.codec, newline="")


def transcode_to_utf8(path, enc: Encoding) -> Path:
    """A UTF-8 copy of the file (for byte-level readers), streamed, under the same name in a new temporary
    folder: the caller removes it with ``shutil.rmtree(copy.parent)``."""
    folder = Path(tempfile.mkdtemp(prefix="cordon-utf8-"))
    out_path = folder / Path(path).name
    try:
        with open(out_path, "w", encoding="utf-8", newline="") as out, open_text(path, enc) as src:
            first = True
            for block in iter(lambda: src.read(BLOCK), ""):
                if first and block.startswith("\ufeff"):
                    block = block[1:]
                first = False
                out.write(block)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return out_path


# ------------------------------------------------------------------------------------------- tabular files
def kind_of(path, *, error=FileError) -> str:
    """"csv" or "xlsx", from the first bytes and the name; refuses other files."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise error(exc.strerror or str(exc), path=path) from None
    suffix = path.suffix.lower()
    if head.startswith(b"PK\x03\x04"):
        if suffix not in (".xlsx", ".xlsm"):
            raise error(f"looks like a zip/XLSX file but is named {suffix or 'without suffix'}", path=path)
        return "xlsx"
    if suffix in (".xlsx", ".xlsm"):
        raise error("not a valid XLSX file", path=path)
    if suffix not in (".csv", ".txt"):
        raise error(f"unsupported file type {suffix or '(none)'}; use CSV or XLSX", path=path)
    return "csv"


def csv_rows(path, enc: Encoding, *, error=FileError):
    """(line, cells) of every CSV record (line: where the record starts); a malformed record or a field
    longer than ``FIELD_LIMIT`` raises ``error`` with its line."""
    with open_text(path, enc) as text:
        reader = csv.reader(text)
        line = 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                reason = str(exc)
                if "field larger than field limit" in reason:
                    reason = f"a field longer than {FIELD_LIMIT:,} characters (an unclosed quote?)"
                raise error(reason, path=path, line=line) from None
            if row and line == 1 and row[0].startswith("\ufeff"):
                row[0] = row[0][1:]
            yield line, row
            line = reader.line_num + 1


def check_csv(path, enc: Encoding, *, error=FileError) -> int:
    """Read every record once (nothing kept) so that a malformed one refuses the file before any row is
    used; returns the number of records."""
    return sum(1 for _ in csv_rows(path, enc, error=error))


def cell_text(v) -> str:
    """An XLSX cell as the text a person typed: whole numbers without '.0' while a float holds them exactly;
    a larger number (an 18-digit ID number stored as a number) keeps the scientific form Excel shows, which
    ``ids.id_number_error`` explains; dates as YYYY-MM-DD."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 2 ** 53:
            return str(int(v))
        return repr(v).upper() if "e" in repr(v) else repr(v)
    if hasattr(v, "date") and callable(v.date):
        return v.date().isoformat()
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def xlsx_rows(path, *, error=FileError):
    """(line, cells as text) of the first sheet."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds
        raise error(f"cannot read XLSX ({exc})", path=path) from None
    try:
        ws = wb.worksheets[0]
        line = 0
        try:
            for line, row in enumerate(ws.iter_rows(values_only=True), start=1):
                yield line, [cell_text(v) for v in row]
        except Exception as exc:  # noqa: BLE001 - a damaged sheet, found while reading
            raise error(f"cannot read XLSX ({exc})", path=path, line=line + 1) from None
    finally:
        wb.close()


def rows(path, declared: str | None = None, *, error=FileError):
    """(line, cells) of a CSV (encoding detected over the whole file, every record checked before the first
    is yielded) or XLSX file."""
    kind = kind_of(path, error=error)
    if kind == "xlsx":
        return xlsx_rows(path, error=error)
    enc = detect(path, declared, error=error)
    check_csv(path, enc, error=error)
    return csv_rows(path, enc, error=error)
