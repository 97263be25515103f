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


def test_the_tests_sharing_a_costly_fixture_are_one_worker_group_even_through_a_test_using_two():
    """Under pytest-xdist's `--dist loadgroup` a session fixture is built once per worker that asks for it:
    conftest puts the tests of each costly fixture in one xdist group (helpers.worker_groups)."""
    from helpers import worker_groups

    class Item:  # what worker_groups reads of a pytest item
        def __init__(self, fixturenames):
            self.fixturenames = fixturenames

    book, store, both, hostile, plain = (
        Item(names)
        for names in (
            ["mnist_path", "built_book", "site"],
            ["smoke_store"],
            ["smoke_store", "built_book"],
            ["hostile_reference_book", "browser"],
            ["tmp_path", "mnist_path"],
        )
    )
    assert worker_groups([book, hostile, plain]) == {book: "built_book", hostile: "hostile_reference_book"}
    joined = worker_groups([book, store, both, hostile, plain])
    assert joined[book] == joined[store] == joined[both] == "built_book+smoke_store" and plain not in joined
