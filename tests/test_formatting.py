"""Formatting by pieces gives black's bytes: the joined pieces equal black run on the whole
module, for the generated modules and for the shapes around a cut that could go wrong.

The committed generated/ files are black's whole-module output (tests/test_determinism.py
builds them), so comparing the pieces with them needs black only on the pieces. The full
build (test_determinism.py, ``ocppgen build --check`` in CI) covers every module.
"""

from __future__ import annotations

import random

import black
import pytest

from ocppgen import formatting
from ocppgen.formatting import BLACK_MODE, Formatter, pieces
from ocppgen.load import default_schema_root, load_sets
from ocppgen.pipeline import build_ir
from ocppgen.render import render_version_sources
from ocppgen.render_tables import render_tables_unformatted
from tests.conftest import ROOT


def _whole(source: str) -> str:
    return black.format_str(source, mode=BLACK_MODE)


def _joined(source: str) -> str:
    with Formatter() as formatter:
        formatter.jobs = 1
        return formatter.submit({"m.py": source})()["m.py"]


@pytest.fixture(autouse=True)
def _no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCPPGEN_CACHE_DIR", "")


def test_pieces_of_generated_modules_give_the_committed_bytes() -> None:
    """Every kind of generated module (the 1.6 set has each template but the 2.x device model;
    2.0.1 adds that and open objects), formatted by pieces, is the committed file."""
    sets = {s.version: s for s in load_sets(default_schema_root(), ["1.6", "2.0.1"])}
    sources = {}
    for version, wanted in (("1.6", None), ("2.0.1", {"datatypes.py", "devicemodel.py", "csms.py"})):
        ir, _ = build_ir(sets[version])
        rendered = {**render_version_sources(ir, "ocppgen.generated"), **render_tables_unformatted(version, ir.key, "ocppgen.generated")}
        sources.update({p: s for p, s in rendered.items() if wanted is None or p.split("/")[1] in wanted})
    assert len(sources) == 11
    with Formatter() as formatter:
        formatted = formatter.submit(sources)()
    for path, text in formatted.items():
        assert len(pieces(sources[path])) > 1 or path.endswith("__init__.py"), path
        assert text == (ROOT / "generated" / path).read_text(encoding="utf-8"), path


SNIPPETS = [
    'x = 1',
    'x = [\n    1,\n    2]',
    'import os',
    'from a import (b,\n   c)',
    '"""A module docstring."""',
    'class A:\n    pass',
    'class B(object):\n    """Doc."""',
    'class C:\n    """Doc."""\n\n    x: int = 1\n    """Field doc."""',
    'def f(a,b):\n    return a+b',
    'def g(): ...',
    'async def h():\n    await x',
    '@decorator\nclass D:\n    y = 2',
    '@decorator\n\ndef e(): pass',
    '# a comment',
    '# a comment\n\nclass E:\n    pass',
    'class F:\n    x = 1\n    # trailing comment',
    'if x:\n    def i(): pass\nelse:\n    pass',
    's = """\n\nclass NotAClass:\n    pass\n"""',
    'y = (a\n@ b)',
    "t = 'single'",
    'class G:\n    def m(self): ...\n    def n(self): ...',
    'z = call(argument_number_one, argument_number_two, argument_number_three, argument_number_four_x)',
]


@pytest.mark.parametrize("seed", range(150))
def test_random_modules_by_pieces_equal_black_whole(seed: int) -> None:
    """Random sequences of top-level shapes, with 0 to 3 blank lines between them: formatted by
    pieces (or whole, where a cut is refused) they are black's whole-module output."""
    rng = random.Random(seed)
    parts = rng.choices(SNIPPETS, k=rng.randint(2, 7))
    source = "".join(p + "\n" + "\n" * rng.randint(0, 3) for p in parts)
    try:
        expected = _whole(source)
    except black.InvalidInput:
        pytest.skip("not Python (a decorator before a blank line and a non-definition)")
    assert _joined(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        "x = 1\n# fmt: off\nclass A:\n    y  =  [1,\n 2]\n\n\nclass B:\n    z  =  1\n# fmt: on\n",
        "x = 1\n\n\x0c\nclass A:\n    pass\n",
        "x = 1\r\n\r\nclass A:\r\n    pass\r\n",
        "x = 1  # yapf: disable\n\nclass A:\n    pass\n",
    ],
)
def test_directives_and_odd_whitespace_keep_the_module_whole(source: str) -> None:
    assert pieces(source) == [source]
    assert _joined(source) == _whole(source)


def test_cuts_only_after_a_statement_and_a_blank_line() -> None:
    assert pieces("x = 1\nclass A:\n    pass\n") == ["x = 1\nclass A:\n    pass\n"]
    assert pieces("x = 1\n\nclass A:\n    pass\n") == ["x = 1\n", "class A:\n    pass\n"]
    assert len(pieces("# note\n\nclass A:\n    pass\n")) == 1
    assert len(pieces("\n\nclass A:\n    pass\n")) == 1


def test_a_cut_inside_a_string_falls_back_to_the_whole_module() -> None:
    source = 'x = """\n\nclass A:\n    pass\n"""\n'
    assert len(pieces(source)) == 2  # looks like a cut; black refuses the first piece
    assert _joined(source) == _whole(source)


def test_a_repeated_piece_is_formatted_once_per_build(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = formatting._black

    def counting(source: str) -> str | None:
        calls.append(source)
        return real(source)

    monkeypatch.setattr(formatting, "_black", counting)
    block = "class A:\n    x:int=1\n"
    with Formatter() as formatter:
        formatter.jobs = 1
        first = formatter.submit({"a.py": f"import os\n\n{block}", "b.py": f"import sys\n\n{block}"})()
        second = formatter.submit({"c.py": f"import re\n\n{block}"})()
    assert calls.count(block) == 1
    assert first["a.py"] == _whole(f"import os\n\n{block}") and second["c.py"] == _whole(f"import re\n\n{block}")


def test_table_pieces_are_settled_whatever_the_package() -> None:
    """The pieces the build does not format (``settled``: the table modules after their first
    piece) are the same text for any package name, and black leaves each of them unchanged."""
    for version, key in [("1.6", "v16"), ("2.0.1", "v201"), ("2.1", "v21")]:
        ours = render_tables_unformatted(version, key, "ocppgen.generated")
        theirs = render_tables_unformatted(version, key, "a_vendor.with_a_rather_long.package_name.for_ocpp")
        assert ours.keys() == theirs.keys()
        for path, source in ours.items():
            settled = pieces(source)[1:]
            assert len(settled) >= 2 and settled == pieces(theirs[path])[1:], path
            for piece in settled:
                assert black.format_str(piece, mode=BLACK_MODE) == piece.rstrip("\n") + "\n", (path, piece[:80])


# The render helpers lay out lines as black does, so that black has nothing to change. Around
# the line length: black's output is the same from the old form (one line) as from the laid-out
# one (the exactness), and where a helper laid a line out, it is black's own layout (the speed).


def _stable(old: str, new: str, laid_out: bool = True) -> None:
    expected = _whole(old)
    assert _whole(new) == expected, (old, new)
    if new != old and laid_out:
        assert new == expected, (old, new)


@pytest.mark.parametrize("pad", range(0, 60, 3))
def test_field_lines_are_black_layout(pad: int) -> None:
    from ocppgen.render import FieldView

    name = "f" * (10 + pad)
    long = "Item" + "x" * (pad // 2)
    for ann, default in [
        ("Annotated[str, Meta(max_length=20)] | UnsetType", "UNSET"),
        ("SomeType", None),
        ("int | UnsetType", "UNSET"),
        (f"Annotated[list[{long}], Meta(min_length=1, max_length=4)] | UnsetType", "UNSET"),
        (f"Annotated[list[{long}], Meta(min_length=1, max_length=1024)]", None),
        (f"Annotated[list[Annotated[str, Meta(max_length=20)]], Meta(min_length=1)] | {long}", "UNSET"),
    ]:
        for wire in ("wireName", name):  # a field(...) with the wire name, or a plain default
            view = FieldView(name, wire, ann, default, "")
            if wire != name:
                value = "field(" + ("" if default is None else f"default={default}, ") + f'name="{wire}")'
            else:
                value = default
            old = f"{name}: {ann}" + ("" if value is None else f" = {value}")
            _stable(f'class A:\n    """Doc."""\n\n    {old}\n', f'class A:\n    """Doc."""\n\n    {view.line}\n')


@pytest.mark.parametrize("pad", range(0, 60, 4))
def test_message_rows_and_imports_are_black_layout(pad: int) -> None:
    from ocppgen.ir import Message
    from ocppgen.render import _message_line, all_line, import_line

    action = "A" * (5 + pad)
    m = Message(action=action, kind="response", type_name=f"{action}Response", file=f"{action}Response.json", integral_floats=False)
    old_row = f'    MessageInfo("{action}", "response", {action}Response, "{action}Response.json", False),\n'
    _stable(f"M = (\n{old_row})\n", f"M = (\n    {_message_line(m)}\n)\n")
    names = [f"Name{i}{'x' * pad}" for i in range(4)]
    _stable(f"from a.b import {', '.join(names)}\n", import_line("a.b", names) + "\n")
    _stable(f"__all__ = [{', '.join(repr(n) for n in names)}]\n", all_line(names) + "\n")


@pytest.mark.parametrize("pad", range(0, 70, 5))
def test_route_constants_and_defs_are_black_layout(pad: int) -> None:
    from ocppgen.render import ActionView, def_layout

    name = "Act" + "x" * pad
    view = ActionView(name, "act", name.upper(), f"{name}Request", f"{name}Response", False, "CSMS", True, "Doc.")
    old = (
        f"{view.constant}: Final[Route[{name}Request, {name}Response]] = Route(\n    Action.{name},\n    {name}Request,\n"
        f"    {name}Response,\n    _FROM_CSMS,\n    send=False,\n    integral_floats=True,\n)\n"
    )
    _stable(old, view.route + "\n")
    line = f"    async def on_{name.lower()}(self, request: {name}Request, context: Context) -> {name}Response:\n"
    body = '        """Doc."""\n'
    _stable(f"class H:\n{line}{body}", f"class H:\n{def_layout(line)}{body}")


@pytest.mark.parametrize(
    "doc",
    [
        "One line.",
        "First line\nsecond line\n\nafter a blank",
        "Ends in a backslash \\\\\nnext",
        "first\n    indented more\n  less",
        *(f"First line\n{'w' * n}" for n in range(84, 94)),
        *(f"First line\n§{'w' * n}" for n in range(86, 91)),
        *(f"First line\u2028x\n{'w' * n}" for n in range(86, 91)),
        *(f"First line\n{'w' * n}{end}" for n in (88, 89, 90) for end in ('\\"', "\\\\", " x")),
        "w" * 95,
    ],
)
def test_method_docstrings_are_black_layout(doc: str) -> None:
    from ocppgen.render import ActionView

    view = ActionView("A", "a", "A", "AReq", "ARes", False, "CSMS", True, doc)
    old, new = (f'class H:\n    def m(self) -> None:\n        """{d}"""\n' for d in (doc, view.method_doc))
    # not laid out (only the same output): a quote or backslash at the end (black pads it), a
    # line break of str.splitlines() that is not "\n"
    _stable(old, new, laid_out=not doc.endswith(('"', "\\")) and "\u2028" not in doc)


@pytest.mark.parametrize("value", ["Wh", "it's", 'say "hi"', "back\\slash", "ünïcode", ""])
def test_string_defaults_are_black_quotes(value: str) -> None:
    from ocppgen.ir import Field, Source, StringType
    from ocppgen.render import _default_source

    f = Field(wire_name="unit", type=StringType(), required=False, has_default=True, default=value, source=Source(file="x", pointer=""))
    assert _whole(f"unit: str = {repr(value)}\n") == _whole(f"unit: str = {_default_source(f, {})}\n")
