"""No module imports upward in README's layer order (the table is embedlab.layers.LAYERS).

Every module under ``embedlab`` is parsed with ``ast`` (imports inside functions and under
``TYPE_CHECKING`` count too); an import of a module in a higher layer fails the test unless
it is listed in :data:`KNOWN_EXCEPTIONS`, and a listed exception that no longer occurs fails
it too, so that list only shrinks.
"""

from __future__ import annotations

import ast
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import embedlab
from embedlab.layers import LAYERS, NAMES, layer_of

#: (importing module, imported module) pairs that still run upward, each with why.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {}


def _modules() -> dict[str, Path]:
    """Every embedlab module (and the package itself) -> its source file.

    Files are listed from the source tree, not only with ``pkgutil.walk_packages``: that
    skips folders without ``__init__.py`` (``search/`` is one), whose modules still import.
    """
    root = Path(embedlab.__file__).parent
    out: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    walked = {m.name for m in pkgutil.walk_packages(embedlab.__path__, "embedlab.")}
    assert walked <= set(out), walked - set(out)
    return out


def imported(name: str, source: str, is_package: bool, known: set[str]) -> Iterator[str]:
    """The embedlab modules that module ``name`` (its ``source``) imports, resolved against
    the ``known`` module names (``from embedlab.x import y`` is ``embedlab.x.y`` when that is
    a module)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.split(".")[0] == "embedlab")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if module.split(".")[0] != "embedlab":
                continue
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                yield sub if sub in known else module


def upward_imports(modules: dict[str, Path]) -> set[tuple[str, str]]:
    """(importer, imported) for every import of a higher layer."""
    known = set(modules)
    found = set()
    for name, path in modules.items():
        mine = layer_of(name)
        is_package = path.name == "__init__.py"
        for target in imported(name, path.read_text(encoding="utf-8"), is_package, known):
            if layer_of(target) > mine:
                found.add((name, target))
    return found


def _describe(pairs: set[tuple[str, str]]) -> str:
    return "\n".join(
        f"  {a} ({NAMES[layer_of(a)]}) imports {b} ({NAMES[layer_of(b)]})" for a, b in sorted(pairs)
    )


def test_every_module_has_a_layer() -> None:
    for name in _modules():
        assert layer_of(name) in NAMES, name


def test_no_module_imports_upward() -> None:
    found = upward_imports(_modules())
    new = found - set(KNOWN_EXCEPTIONS)
    assert not new, (
        "upward imports (README's layer order, embedlab/layers.py); move the code down or "
        "the call up:\n" + _describe(new)
    )
    gone = set(KNOWN_EXCEPTIONS) - found
    assert not gone, "fixed, remove from KNOWN_EXCEPTIONS:\n" + _describe(gone)


@pytest.mark.parametrize(
    ("name", "source", "expect"),
    [
        ("embedlab.stores.api", "from embedlab.search import retrieve", "embedlab.search.retrieve"),
        ("embedlab.evaluate.grid", "def f():\n    import embedlab.figures.evaluate", None),
        ("embedlab.data.sources", "from ..stores import api", "embedlab.stores.api"),
        ("embedlab.vectors.calibrate", "from embedlab import load_model", "embedlab"),
    ],
)
def test_the_check_sees_upward_imports(name: str, source: str, expect: str | None) -> None:
    """The scanner catches plain, lazy, relative and package-level upward imports."""
    known = set(_modules())
    (target,) = imported(name, source, False, known)
    assert target == (expect or "embedlab.figures.evaluate")
    assert layer_of(target) > layer_of(name)


def test_unknown_top_level_module_has_no_layer() -> None:
    with pytest.raises(KeyError, match="LAYERS"):
        layer_of("embedlab.newthing")
    assert LAYERS["embedlab.stores.ingest"] < LAYERS["embedlab.stores"]
