"""The suite's own rules: what tests share lives in helpers.py, synthetic.py, slow_fixtures.py and conftest.py,
not in a test module."""

import ast
from pathlib import Path

TESTS = Path(__file__).parent


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_no_module_of_the_suite_imports_a_test_module():
    test_modules = {path.stem for path in TESTS.glob("test_*.py")}
    assert len(test_modules) > 20  # the glob found the suite
    importing = {
        path.name: sorted(imported_modules(path) & test_modules)
        for path in TESTS.glob("*.py")
        if imported_modules(path) & test_modules
    }
    assert importing == {}, "move what they share to helpers.py or synthetic.py"


def constants(path: Path) -> set[str]:
    """The upper-case names a module assigns at its top level."""
    names = set()
    for node in ast.parse(path.read_text(), filename=str(path)).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(target.id for target in targets if isinstance(target, ast.Name) and target.id.isupper())
    return names


def test_no_module_of_the_suite_defines_again_a_constant_that_helpers_share():
    shared = constants(TESTS / "helpers.py") | constants(TESTS / "synthetic.py")
    assert "NETWORK_GUARD" in shared  # the parse found them
    again = {
        path.name: sorted(constants(path) & shared)
        for path in [*TESTS.glob("test_*.py"), TESTS / "conftest.py"]
        if constants(path) & shared
    }
    assert again == {}, "import it from helpers.py or synthetic.py"


def test_nothing_is_imported_from_conftest():
    """conftest.py holds fixtures, which pytest hands to every test; shared names are imported from helpers.py."""
    importing = [path.name for path in TESTS.glob("*.py") if "conftest" in imported_modules(path)]
    assert importing == []
