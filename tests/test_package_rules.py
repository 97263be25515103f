"""Rules of the package's own code, read from its source: no module reaches into another's private names,
and only `site.book.displayed` turns text into Markdown for a page (it takes `safe.OwnMarkdown` only)."""

import ast
from pathlib import Path

import convcarbon

PACKAGE = Path(convcarbon.__file__).parent


def modules() -> dict[str, ast.Module]:
    return {path.relative_to(PACKAGE).as_posix(): ast.parse(path.read_text()) for path in PACKAGE.rglob("*.py")}


def test_no_module_imports_a_private_name_of_another():
    private = {
        name: sorted(alias.name for alias in node.names if alias.name.startswith("_"))
        for name, tree in modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and any(alias.name.startswith("_") for alias in node.names)
    }
    assert private == {}, "make the name public, or move it where it is used"


def test_only_displayed_makes_markdown_for_a_page():
    makers = {
        name
        for name, tree in modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Markdown"
    }
    assert makers == {"site/book.py"}, "show the package's own Markdown through site.book.displayed"
    (displayed,) = [
        node
        for node in ast.walk(modules()["site/book.py"])
        if isinstance(node, ast.FunctionDef) and node.name == "displayed"
    ]
    assert any(
        isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Markdown" for node in ast.walk(displayed)
    )
