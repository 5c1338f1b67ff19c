"""Spreadsheets: Excel workbooks (``.xlsx``, openpyxl) and CSV files (the standard ``csv`` module).

Each sheet is a section headed by its name (a CSV file has one, without a heading); its first
non-empty row is the header, and every later row is one paragraph and one sentence made of
``header: value`` pairs (``Name: Anna Berg; Role: keeper; Years: 32``), empty cells left out.
``Document.rows`` maps each row's block to its row number in the sheet (as a spreadsheet
program numbers it, the header being row 1 of a CSV file), so a citation names sheet and row.

Nothing is ever computed: an Excel cell shows the value its program saved with the file (a
formula without one is left out), and a CSV cell that looks like a formula
(``=HYPERLINK(...)``) is text, quoted as it stands. Workbooks with macros (``.xlsm``, or an
``.xlsx`` holding a VBA project) are refused, and so is a workbook that unpacks beyond the
limit (a zip bomb); cells are counted against :data:`~rag.ingest.loader.MAX_SHEET_CELLS`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from rag.ingest import loader as limits
from rag.ingest.extracted import TextAssembler, clean_line, decode_utf8, layout_blocks, read_limited
from rag.ingest.loader import Block, DocumentError
from rag.ingest.office import check_office_zip
from rag.records import Document

MAX_CELL_CHARS = 2000  # a longer cell is cut (with "…")


def cell_text(value: Any) -> str:
    """A cell's value as text: numbers without a trailing ".0", dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:g}"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    text = clean_line(" ".join(str(value).split()))
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "…"


def _column_name(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def row_sentence(header: list[str], cells: list[str]) -> str:
    """``header: value`` pairs of the non-empty cells, ``; ``-separated."""
    parts = []
    for i, value in enumerate(cells):
        if not value:
            continue
        name = header[i] if i < len(header) and header[i] else f"Column {_column_name(i)}"
        parts.append(f"{name}: {value}")
    return "; ".join(parts)


class _CellCounter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0

    def add(self, n: int) -> None:
        self.count += n
        if self.count > limits.MAX_SHEET_CELLS:
            raise DocumentError(
                f"{self.path} has more than {limits.MAX_SHEET_CELLS:,} cells; the limit is "
                f"{limits.MAX_SHEET_CELLS:,}"
            )


def add_sheet(assembler: TextAssembler, rows: Iterable[tuple[int, list[str]]], heading: str,
              row_starts: list[tuple[int, int]]) -> None:
    """One sheet's (row number, cell texts) into ``assembler``: its heading, then a block per row."""
    header: list[str] | None = None
    for number, cells in rows:
        if not any(cells):
            continue
        if header is None:
            header = cells
            if heading:
                assembler.add(heading, is_heading=True)
            continue
        start = assembler.add(row_sentence(header, cells))
        if start >= 0:
            row_starts.append((start, number))


def _title_row_check(path: Path, row_starts: list[tuple[int, int]]) -> None:
    if not row_starts:
        raise DocumentError(f"{path} has no rows below its header: there is nothing to read in it")


class XlsxLoader:
    """The :class:`~rag.ingest.loader.DocumentLoader` of Excel (.xlsx) workbooks."""

    suffixes: tuple[str, ...] = (".xlsx",)
    kind = "xlsx"

    def load(self, path: Path, doc_id: str) -> Document:
        import openpyxl

        path = Path(path)
        raw = read_limited(path, self.kind)
        check_office_zip(path, raw, "Excel file")
        counter = _CellCounter(path)
        assembler = TextAssembler(path)
        row_starts: list[tuple[int, int]] = []
        try:
            workbook = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
            try:
                title = clean_line(workbook.properties.title or "")
                for sheet in workbook.worksheets:
                    add_sheet(assembler, self._rows(sheet, counter), sheet.title, row_starts)
            finally:
                workbook.close()
        except DocumentError:
            raise
        except Exception as exc:  # noqa: BLE001 - openpyxl/lxml raise many kinds on bad files
            raise DocumentError(f"{path} is a damaged Excel file ({type(exc).__name__})") from exc
        _title_row_check(path, row_starts)
        return assembler.document(doc_id, raw, title, rows=tuple(row_starts))

    @staticmethod
    def _rows(sheet: Any, counter: _CellCounter) -> Iterator[tuple[int, list[str]]]:
        if not hasattr(sheet, "iter_rows"):  # a chart sheet
            return
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=sheet.min_row or 1):
            counter.add(len(row))
            cells = [cell_text(v) for v in row]
            while cells and not cells[-1]:
                cells.pop()
            yield number, cells

    def blocks(self, document: Document) -> list[Block]:
        return layout_blocks(document)


class CsvLoader:
    """The :class:`~rag.ingest.loader.DocumentLoader` of CSV files (UTF-8; ``,``, ``;`` or tab)."""

    suffixes: tuple[str, ...] = (".csv",)
    kind = "text"

    def load(self, path: Path, doc_id: str) -> Document:
        path = Path(path)
        raw = read_limited(path, self.kind)
        text = decode_utf8(path, raw)
        try:
            dialect: Any = csv.Sniffer().sniff(text[:20_000], delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        counter = _CellCounter(path)
        assembler = TextAssembler(path)
        row_starts: list[tuple[int, int]] = []

        def rows() -> Iterator[tuple[int, list[str]]]:
            reader = csv.reader(io.StringIO(text, newline=""), dialect)
            for number, row in enumerate(reader, start=1):
                counter.add(len(row))
                yield number, [cell_text(v) for v in row]

        try:
            add_sheet(assembler, rows(), "", row_starts)
        except csv.Error as exc:
            raise DocumentError(f"{path} is not a CSV file that can be read ({exc})") from exc
        _title_row_check(path, row_starts)
        return assembler.document(doc_id, raw, "", rows=tuple(row_starts))

    def blocks(self, document: Document) -> list[Block]:
        return layout_blocks(document)
