"""The suite's own rules: what tests share lives in helpers.py, synthetic.py and conftest.py, not in a test module."""

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
