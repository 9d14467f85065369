"""Readers of the OCA's reference documents in ../shared/spec, for the device-model tests only.

They parse the appendix CSVs and the markdown transcriptions of Part 2, Part 4, the errata and
the 1.6 documents on their own, independently of the generator's data files, so the tests can
hold the generated constants against the documents.

The 2.1 ``dm_components_vars.csv`` is not valid UTF-8: three description cells are
Windows-1252 (curly quotes 0x93/0x94, and a stray 0x9D that no code page defines). ``read_csv``
decodes each line as UTF-8 and falls back to cp1252 with replacement for the lines that are
not; the key and fact columns are ASCII either way.
"""

from __future__ import annotations

import csv
import functools
import html
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import SHARED_SPEC

CSV_DIRS = {"2.0.1": "ocpp2/Appendices_CSV_v1.4", "2.1": "ocpp21/Appendices_CSV_v2.0"}
DOCS = {
    "2.0.1": {
        "Part 2": "ocpp2/OCPP-2.0.1_edition3_part2_specification.md",
        "Part 4": "ocpp2/OCPP-2.0.1_edition3_part4_ocpp-j-specification.md",
        "Errata 2025-09": "ocpp2/OCPP-2.0.1_edition3_errata_2025-09.md",
    },
    "2.1": {
        "Part 2": "ocpp21/OCPP-2.1_edition1_part2_specification.md",
        "Part 4": "ocpp21/OCPP-2.1_edition1_part4_ocpp-j-specification.md",
        "Errata 2025-09": "ocpp21/OCPP-2.1_edition1_errata_2025-09.md",
    },
}
# Part 2's component-variable definitions are the chapter with this heading (the first match
# of the title is its line in the table of contents).
RCV_CHAPTER = "\n# Referenced Components and Variables\n"


def decode_lines(raw: bytes) -> str:
    """UTF-8, line by line, with a cp1252 fallback for the lines that are not UTF-8."""
    lines = []
    for line in raw.split(b"\n"):
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(line.decode("cp1252", errors="replace"))
    return "\n".join(lines)


@functools.cache
def read_csv(version: str, name: str) -> list[list[str]]:
    """The rows of one appendix CSV (';'-separated), header first, cells stripped."""
    text = decode_lines((SHARED_SPEC / CSV_DIRS[version] / name).read_bytes())
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text), delimiter=";")]


@functools.cache
def read_doc(version: str, doc: str) -> str:
    text = (SHARED_SPEC / DOCS[version][doc]).read_text(encoding="utf-8")
    return text[text.index(RCV_CHAPTER) :] if doc == "Part 2" else text


def read_text(relative: str) -> str:
    return (SHARED_SPEC / relative).read_text(encoding="utf-8")


def cells(row_html: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", c))).strip()
        for c in re.findall(r"<td[^>]*>(.*?)</td>", row_html, re.S)
    ]


# A section heading: "# 2.1.5. HeartbeatInterval", or the same without "#" (the transcription
# lost some markers), or "2.1.9.OfflineThreshold".
HEADING = re.compile(r"^(?:#+\s*)?(\d+(?:\.\d+)+)\.?\s*(\S.*?)\s*$")


def _chunks(text: str) -> list[tuple[str, str, list[list[str]] | None]]:
    """The document as (section, title, table rows or None for a heading), in order."""
    out: list[tuple[str, str, list[list[str]] | None]] = []
    section, title = "", ""
    for m in re.finditer(r"<table>(.*?)</table>|^[^<\n]*$", text, re.S | re.M):
        chunk = m.group(0)
        if chunk.startswith("<table>"):
            out.append((section, title, [cells(r) for r in re.findall(r"<tr>(.*?)</tr>", m.group(1), re.S)]))
            continue
        h = HEADING.match(chunk.strip())
        if h and len(chunk) < 200:
            section, title = h.group(1), h.group(2)
            out.append((section, title, None))
    return out


def headings(text: str) -> dict[str, str]:
    """Section number -> title, first occurrence."""
    found: dict[str, str] = {}
    for section, title, rows in _chunks(text):
        if rows is None:
            found.setdefault(section, title)
    return found


@dataclass
class Record:
    """One component-variable definition table: the fields it states, as the text spells them."""

    section: str
    title: str
    required: str = ""
    components: list[str] = field(default_factory=list)
    variable: str = ""
    instance: str = ""
    mutability: str = ""
    data_type: str = ""
    unit: str = ""


@functools.cache
def doc_records(version: str, doc: str) -> tuple[Record, ...]:
    """``records`` of one document, parsed once."""
    return tuple(records(read_doc(version, doc)))


@functools.cache
def doc_access_rows(version: str) -> tuple[AccessRow, ...]:
    """``access_rows`` of Part 2, parsed once."""
    return tuple(access_rows(read_doc(version, "Part 2")))


def records(text: str) -> list[Record]:
    """Every definition table ("Required / Component / Variable / ...") in document order.

    A definition may be split over two tables (a page break); one table may define a second
    instance of the same variable (the errata do).
    """
    out: list[Record] = []
    current: Record | None = None
    last = ""
    for section, title, rows in _chunks(text):
        for row in rows or []:
            if not row:
                continue
            head = row[0].lower()
            low = [c.lower().replace(" ", "") for c in row]
            if head == "required":
                current = Record(section, title, required=row[1] if len(row) > 1 else "")
                out.append(current)
                last = "required"
            elif current is None:
                continue
            elif "componentname" in low:
                current.components.append(row[-1])
                last = "component"
            elif len(row) == 1 and last == "component" and row[0]:
                current.components.append(row[0])
            elif head == "variable" and len(row) >= 2:
                current.variable = row[-1]
                last = "variable"
            elif "mutability" in low:
                current.mutability = row[-1]
                last = "mutability"
            elif "datatype" in low:
                current.data_type = row[-1]
            elif "unit" in low:
                current.unit = row[-1]
            elif any(c.startswith("variableinstance") or c == "instancename" for c in low) or (
                last == "variable" and len(row) == 2 and head.startswith("ijkl")
            ):
                if current.mutability:
                    current = Record(
                        current.section,
                        current.title,
                        current.required,
                        list(current.components),
                        current.variable,
                    )
                    out.append(current)
                current.instance = row[-1]
                last = "instance"
            elif head == "description" and row[-1] != "...":
                current = None
    return out


@dataclass
class AccessRow:
    """One row of a concise controller table with an R/W column (2.1 Part 2 §2.4.1, §2.4.2)."""

    section: str
    title: str
    variable: str
    instance: str
    data_type: str
    required: str
    access: str


def access_rows(text: str) -> list[AccessRow]:
    out: list[AccessRow] = []
    for section, title, rows in _chunks(text):
        if not rows or rows[0][:1] != ["Variable"] or not {"R/W", "RW"} & set(rows[0]):
            continue
        header = rows[0]
        access = header.index("R/W") if "R/W" in header else header.index("RW")
        required = header.index("M/O")
        for row in rows[1:]:
            if len(row) != len(header):
                continue
            name, instance = row[0], ""
            m = re.fullmatch(r"(\w+)\[(\w+)\]", name)
            if m:
                name, instance = m.group(1), m.group(2)
            out.append(AccessRow(section, title, name, instance, row[1], row[required], row[access]))
    return out


MUTABILITY_WORDS = {"readonly": "ReadOnly", "readwrite": "ReadWrite", "writeonly": "WriteOnly"}
ACCESS_CODES = {"RO": "ReadOnly", "RW": "ReadWrite", "WO": "WriteOnly"}


def mutabilities(text: str) -> set[str]:
    """The mutability values a cell names: "ReadOnly orReadWrite. Choice is ..." -> both."""
    words = re.findall(r"read\s*only|read\s*write|write\s*only", text, re.I)
    return {MUTABILITY_WORDS[re.sub(r"\s", "", w.lower())] for w in words}


def access_mutabilities(code: str) -> set[str]:
    """ "RO/RW" -> {"ReadOnly", "ReadWrite"}."""
    return {ACCESS_CODES[c] for c in code.split("/")}


@dataclass
class KeyFields:
    """The fields one 1.6 configuration key definition states."""

    required: str = ""
    accessibility: str = ""
    type: str = ""
    unit: str = ""


_KEY_FIELDS = {
    "required/optional": "required",
    "accessibility": "accessibility",
    "type": "type",
    "unit": "unit",
}


def key_definitions(text: str) -> list[KeyFields]:
    """The 1.6 key definitions in document order, from tables and from plain "Field value"
    lines alike; each starts at its "Required/optional" field.

    The transcription of 1.6 chapter 9 puts some definitions under the next key's heading
    (9.1.18 to 9.1.22), so definitions are matched to keys by order, not by heading.
    """
    out: list[KeyFields] = []
    pairs: list[tuple[str, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if "<table>" in line:
            for row in re.findall(r"<tr>(.*?)</tr>", line, re.S):
                c = cells(row)
                if len(c) == 2 and c[0].lower() in _KEY_FIELDS:
                    pairs.append((_KEY_FIELDS[c[0].lower()], c[1]))
        else:
            words = line.split(None, 1)
            if line.lower() in _KEY_FIELDS:
                j = i + 1
                while j < len(lines) and not lines[j].strip():
                    j += 1
                pairs.append((_KEY_FIELDS[line.lower()], lines[j].strip() if j < len(lines) else ""))
                i = j
            elif len(words) == 2 and words[0].lower() in _KEY_FIELDS:
                pairs.append((_KEY_FIELDS[words[0].lower()], words[1]))
        i += 1
    for name, value in pairs:
        if name == "required":
            out.append(KeyFields())
        if out:
            setattr(out[-1], name, value)
    return out


def shared_spec_root() -> Path:
    return SHARED_SPEC
