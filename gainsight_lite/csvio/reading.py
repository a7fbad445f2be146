"""Reading an uploaded CSV file: its text, its header and its rows, with line numbers."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from gainsight_lite.csvio.cells import unguard

# A cell longer than this is not a value anyone meant (csv's own limit is 128 KiB).
MAX_CELL = 100_000
csv.field_size_limit(MAX_CELL + 1)


@dataclass
class Problem:
    """What is wrong with a row (line ≥ 2), with the header (line 1) or the whole file (0)."""

    line: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "message": self.message}


@dataclass
class Row:
    """One line of the file: its cells by column name, what is wrong with it, what it becomes."""

    line: int
    values: dict[str, str]
    problems: list[Problem] = field(default_factory=list)
    # Filled by the importer: the checked values and what writing the row does.
    data: dict[str, Any] = field(default_factory=dict)
    action: str = ""
    target: Any = None

    def error(self, column: str, message: str) -> None:
        self.problems.append(Problem(self.line, column, message))

    @property
    def ok(self) -> bool:
        return not self.problems

    def get(self, column: str) -> str:
        return self.values.get(column, "")


class FileProblem(Exception):
    """The file cannot be read as a CSV file at all."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def normalise(name: str) -> str:
    """A column name as the importers know it: "Parent External ID" → "parent_external_id"."""
    return "_".join(name.strip().lower().replace("-", " ").split())


def decode(data: bytes) -> str:
    """The file's text: UTF-8, with or without the byte-order mark spreadsheets write."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise FileProblem(
            Problem(
                line,
                "",
                f"The file is not UTF-8 text (line {line} has a character it cannot read): "
                "save it as “CSV UTF-8” and import it again.",
            )
        ) from None


def read(data: bytes) -> tuple[list[str], list[Row]]:
    """The header (normalised names) and the non-empty rows of a CSV file.

    A row with more cells than the header is an error of that row; missing cells at the end
    of a row are empty (spreadsheets leave them out).
    """
    text = decode(data)
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise FileProblem(
            Problem(line, "", f"Line {line} holds a NUL character: this is not a CSV file.")
        )
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header_cells = next(reader, None)
    except csv.Error as error:
        raise FileProblem(Problem(1, "", f"The header cannot be read: {error}.")) from None
    if not header_cells or not any(cell.strip() for cell in header_cells):
        raise FileProblem(
            Problem(1, "", "The file is empty: the first line must name the columns.")
        )
    header = [normalise(cell) for cell in header_cells]
    for position, name in enumerate(header, start=1):
        if not name:
            raise FileProblem(Problem(1, "", f"Column {position} of the header has no name."))
        if header.index(name) != position - 1:
            raise FileProblem(Problem(1, name, f"The column “{name}” is in the header twice."))
    rows: list[Row] = []
    width = len(header)
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise FileProblem(
                Problem(start, "", f"Line {start} cannot be read as CSV: {error}.")
            ) from None
        if any(cell.strip() for cell in cells):
            row = Row(
                line=start,
                values={
                    name: unguard(cell) if cell[:1] == "'" else cell
                    for name, cell in zip(header, cells, strict=False)
                },
            )
            if len(cells) > width and any(cell.strip() for cell in cells[width:]):
                row.error("", f"This row has {len(cells)} cells; the header names {width} columns.")
            rows.append(row)
        start = reader.line_num + 1
    return header, rows
