"""The package's rooms and floors (ARCHITECTURE.md): imports point down only, publish -> analyze -> measure.

A module's stage is the `measure`, `analyze` or `publish` folder it sits in, or, in a room that is all one
stage, the `STAGE` its `__init__.py` declares. The foundations at the package's top (counts, configuration,
data, models, escaping, units) import no stage; `cli` and `__main__` may import anything.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "convcarbon"
STAGES = ("measure", "analyze", "publish")
RANK = {"foundation": 0, "measure": 1, "analyze": 2, "publish": 3, "command": 4}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def declared_stage(room: Path) -> str | None:
    init = room / "__init__.py"
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["STAGE"]:
            return ast.literal_eval(node.value)
    return None


def stage_of(module: str) -> str:
    parts = module.split(".")[1:]
    if not parts:
        return "foundation"  # the package's own __init__
    if parts in (["cli"], ["__main__"]):
        return "command"
    for part in parts:
        if part in STAGES:
            return part
    if len(parts) > 1 or (PACKAGE / parts[0]).is_dir():
        stage = declared_stage(PACKAGE / parts[0])
        if stage is None and len(parts) == 1:
            return "foundation"  # a room's __init__ with stage folders below it: a docstring only
        if stage not in STAGES:
            raise AssertionError(f"room {parts[0]} has no measure/analyze/publish folder and declares no STAGE")
        return stage
    return "foundation"


def imports_of(path: Path) -> set[str]:
    """The package's modules that `path` imports, relative imports resolved."""
    current = module_name(path).split(".")
    package = current if path.name == "__init__.py" else current[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("convcarbon"))
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            if not target.startswith("convcarbon"):
                continue
            for alias in node.names:  # `from convcarbon.site import book` imports the module convcarbon.site.book
                candidate = f"{target}.{alias.name}"
                as_module = PACKAGE.parent.joinpath(*candidate.split(".")).with_suffix(".py")
                found.add(candidate if as_module.exists() else target)
    return {name for name in found if name != "convcarbon"}


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_room_is_found():
    rooms = {path.relative_to(PACKAGE).parts[0] for path in MODULES if len(path.relative_to(PACKAGE).parts) > 1}
    assert {"records", "energy", "training", "anatomy", "atlas", "course", "site"} <= rooms
    assert not (PACKAGE / "measure").exists() and not (PACKAGE / "publish").exists(), "the old floors are gone"


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_imports_point_down(path):
    own = stage_of(module_name(path))
    upward = sorted(
        f"{target} ({stage_of(target)})" for target in imports_of(path) if RANK[stage_of(target)] > RANK[own]
    )
    assert upward == [], f"{module_name(path)} ({own}) imports a higher stage"


def test_the_rule_catches_an_upward_import(tmp_path):
    """The check itself works: a measure module importing a publish one is found."""
    assert stage_of("convcarbon.atlas.measure.run") == "measure"
    assert stage_of("convcarbon.site.book") == "publish"
    assert stage_of("convcarbon.costs") == "foundation"
    assert RANK[stage_of("convcarbon.site.book")] > RANK[stage_of("convcarbon.atlas.measure.run")]
