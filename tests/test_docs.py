"""The documentation site: it builds with ``mkdocs build --strict``, every code block of every page
runs as written, and every public parameter of the runtime is documented.

How the code blocks of ``docs/`` run (the convention is also stated in docs/contributing-docs.md):

- a ```` ```python ```` block is a complete program, run as a script in a fresh interpreter;
- a ```` ```console ```` block is a shell session: each line starting with ``$ `` is run with
  bash (the other lines are the output it shows, not compared); the environment's ``bin``
  folder comes first on ``PATH``, so ``ocppgen`` and ``python`` are the test's own;
- the blocks of one page run in order in one temporary folder, so a later block can use what an
  earlier one wrote (the vendoring guide builds a package, then imports it);
- a ```` ```text ```` block is plain text (a diagram, some output) and is never run;
- any other block, or a python or console block that must not run, carries
  ``<!-- not run: why -->`` on the line before its fence. Those should stay rare; the test
  counts them;
- a page whose blocks need a service (Redis, PostgreSQL) says so once, anywhere in it:
  ``<!-- needs: redis, postgresql -->``. The page's blocks then run only when the service is
  configured and reachable (``tests.conftest.require_service``: skipped otherwise, a failure
  under ``OCPPGEN_CI=1``); the blocks read its address from ``REDIS_URL`` / ``DATABASE_URL``.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import os
import pkgutil
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, SERVICES, require_service

DOCS = ROOT / "docs"
FENCE = re.compile(r"^(?P<indent>[ ]*)```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ ]*$", re.S | re.M)
NOT_RUN = re.compile(r"<!--\s*not run:\s*(?P<why>[^>]*?)\s*-->\s*$")
NEEDS = re.compile(r"^<!--\s*needs:\s*(?P<services>[\w ,-]+?)\s*-->\s*$", re.M)


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    lang: str
    body: str
    not_run: str | None  # the reason given in the marker, None when the block runs


def _blocks(path: Path) -> list[Block]:
    text = path.read_text()
    found = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = NOT_RUN.search(before)
        indent = len(match["indent"])
        body = "\n".join(line[indent:] for line in match["body"].splitlines()) + "\n"
        line = text.count("\n", 0, match.start()) + 1
        found.append(Block(str(path.relative_to(DOCS)), line, match["lang"], body, marker["why"] if marker else None))
    return found


def _needs(path: Path) -> list[str]:
    """The services a page's blocks need (its ``<!-- needs: ... -->`` lines)."""
    return [name.strip() for match in NEEDS.finditer(path.read_text())
            for name in match["services"].split(",") if name.strip()]


PAGES = sorted(p for p in DOCS.rglob("*.md"))
NEEDED = {str(p.relative_to(DOCS)): _needs(p) for p in PAGES}
BLOCKS = {str(p.relative_to(DOCS)): _blocks(p) for p in PAGES}
RUNS = ("python", "console")
RUNNABLE = [page for page, blocks in BLOCKS.items() if any(b.not_run is None and b.lang in RUNS for b in blocks)]


def test_every_block_runs_or_says_why_not() -> None:
    """A block in another language than python or console must carry the not-run marker."""
    unmarked = [f"{b.page}:{b.line} ({b.lang or 'no language'})" for bs in BLOCKS.values() for b in bs
                if b.not_run is None and b.lang not in (*RUNS, "text")]
    assert not unmarked, f"blocks that neither run nor say why: {unmarked}"
    skipped = [b for bs in BLOCKS.values() for b in bs if b.not_run is not None]
    assert len(skipped) <= 6, f"keep not-run blocks rare: {[(b.page, b.line, b.not_run) for b in skipped]}"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONPATH", None)
    return env


def _run_console(block: Block, cwd: Path, env: dict[str, str]) -> None:
    for command in (line[2:] for line in block.body.splitlines() if line.startswith("$ ")):
        proc = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, (
            f"docs/{block.page}:{block.line}: `{command}` exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        )


def _run_python(block: Block, index: int, cwd: Path, env: dict[str, str]) -> None:
    script = cwd / f"block_{index}.py"  # a file: a block may run itself under pytest
    script.write_text(block.body)
    proc = subprocess.run([sys.executable, str(script)], cwd=cwd, env=env, capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, f"docs/{block.page}:{block.line} failed:\n{proc.stdout}\n{proc.stderr}"


@pytest.mark.parametrize("page", RUNNABLE)
def test_page_code_blocks_run(page: str, tmp_path: Path) -> None:
    for service in NEEDED[page]:
        require_service(service)  # skips (fails under OCPPGEN_CI=1) when it is missing
    env = _env()
    for index, block in enumerate(BLOCKS[page]):
        if block.not_run is not None or block.lang not in RUNS:
            continue
        if block.lang == "console":
            _run_console(block, tmp_path, env)
        else:
            _run_python(block, index, tmp_path, env)


def test_the_services_pages_need_are_known() -> None:
    unknown = {page: [s for s in needs if s not in SERVICES] for page, needs in NEEDED.items()}
    assert not {p: u for p, u in unknown.items() if u}, f"unknown services in <!-- needs: -->: {unknown}"


def test_the_integration_guides_have_code() -> None:
    for page in ("asgi.md", "metrics.md", "testing.md"):
        assert page in RUNNABLE, f"docs/{page} has no block that runs"


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    """Broken links, pages missing from the nav, API entries that do not resolve: all fail."""
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
         "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, env={**_env(), "NO_MKDOCS_2_WARNING": "1"}, capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "site" / "reference" / "server" / "index.html").exists()


def _nav_pages(nav: object) -> Iterator[str]:
    if isinstance(nav, str):
        yield nav
    elif isinstance(nav, list):
        for item in nav:
            yield from _nav_pages(item)
    elif isinstance(nav, dict):
        for value in nav.values():
            yield from _nav_pages(value)


def test_the_conformance_table_is_in_the_nav_when_it_exists() -> None:
    """docs/conformance.md comes from other work: linked from the nav once it exists, never before."""
    import yaml

    pages = set(_nav_pages(yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]))
    assert ("conformance.md" in pages) == (DOCS / "conformance.md").exists()


# -- every public parameter of the runtime is documented ----------------------------------------

_SECTION = re.compile(r"^\s*(Args|Arguments|Parameters|Attributes|Keyword Args|Keyword Arguments|Other Parameters):\s*$")


def _documented(doc: str | None, name: str) -> bool:
    """``name`` appears in an Args/Attributes section, as ``:param name:``, or in double
    backticks in the prose."""
    if not doc:
        return False
    if re.search(rf"``\*{{0,2}}{re.escape(name)}(``|=|\()", doc) or f":param {name}:" in doc:
        return True
    in_section = False
    for line in doc.splitlines():
        if _SECTION.match(line):
            in_section = True
        elif in_section and re.match(rf"^\s+\**{re.escape(name)}( \(.*\))?:", line):
            return True
    return False


def _parameters(fn: object) -> Iterator[str]:
    try:
        signature = inspect.signature(fn)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return
    for p in signature.parameters.values():
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in ("self", "cls"):
            yield p.name


def _undocumented() -> dict[str, list[str]]:
    """Every parameter of what the runtime modules export (``__all__``): functions, class
    constructors (documented on the class, a base class or ``__init__``) and public methods."""
    import ocppgen.generated.runtime as runtime

    missing: dict[str, list[str]] = {}
    for info in pkgutil.iter_modules(runtime.__path__):
        module = importlib.import_module(f"{runtime.__name__}.{info.name}")
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            where = f"{info.name}.{name}"
            if inspect.isfunction(obj):
                gaps = [p for p in _parameters(obj) if not _documented(obj.__doc__, p)]
                if gaps:
                    missing[where] = gaps
            elif inspect.isclass(obj) and not issubclass(obj, enum.Enum):
                docs = [c.__doc__ for c in obj.__mro__ if c.__module__.startswith(runtime.__name__)]
                docs.append(vars(obj)["__init__"].__doc__ if "__init__" in vars(obj) else None)
                gaps = [p for p in _parameters(obj) if not any(_documented(d, p) for d in docs)]
                if gaps:
                    missing[where] = gaps
                for method_name, method in vars(obj).items():
                    if method_name.startswith("_") or not inspect.isfunction(method):
                        continue
                    if not method.__qualname__.startswith(f"{obj.__name__}."):
                        continue  # a function stored as a default value (StationOptions.sleep)
                    gaps = [p for p in _parameters(method) if not _documented(method.__doc__, p)]
                    if gaps:
                        missing[f"{where}.{method_name}"] = gaps
    return missing


def test_every_public_parameter_of_the_runtime_is_documented() -> None:
    missing = _undocumented()
    assert not missing, f"document these parameters (Args:/Attributes: or ``name`` in the docstring): {missing}"
