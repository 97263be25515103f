"""The package's own code on the pages (`site.code_page`): the two models' definitions are `build_model`'s
source and build the same models, they differ in one line, the built page shows them; the atlas's layer code is
the package's; the Otter-Grader example test files run the checks."""

import doctest
import html
import inspect
import re

import pytest
from helpers import REPO_ROOT

from convcarbon.architecture import ARCHITECTURES
from convcarbon.models import build_model
from convcarbon.site import code_page

OTTER_TESTS = REPO_ROOT / "book" / "otter" / "tests"


def layer_configs(model) -> list[dict]:
    return [{**layer.get_config(), "name": layer.name} for layer in model.layers]


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_each_definition_builds_the_model_build_model_builds(architecture):
    namespace: dict = {}
    exec(code_page.standalone_model_code(architecture), namespace)
    shown, built = namespace["build_model"](), build_model(architecture)
    assert shown.name == built.name
    assert layer_configs(shown) == layer_configs(built)
    assert shown.count_params() == built.count_params()


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_every_other_line_is_the_source_s_own(architecture):
    source = inspect.getsource(build_model).splitlines()
    shown = code_page.model_definition(architecture).splitlines()
    foreign = [line for line in shown if line not in source]
    assert [line.strip() for line in foreign] == [
        "def build_model() -> keras.Model:",
        f"convolution = keras.layers.{build_model(architecture).name}",
    ]
    assert len(shown) == len(source) - 1  # the check of the architecture's name is left out


def test_the_two_definitions_differ_in_one_line():
    diff = code_page.models_diff().splitlines()
    assert [line for line in diff if line.startswith("-")] == ["-    convolution = keras.layers.Conv2D"]
    assert [line for line in diff if line.startswith("+")] == ["+    convolution = keras.layers.SeparableConv2D"]
    assert code_page.models_markdown().startswith("````diff\n")


def test_a_changed_build_model_fails_the_page_loudly(monkeypatch):
    monkeypatch.setattr(code_page, "CHOICE_LINE", "convolution = LAYERS[architecture]")
    with pytest.raises(ValueError, match="no longer holds"):
        code_page.model_definition("conv2d")


def test_the_atlas_layer_code_is_the_package_s():
    from convcarbon.atlas.measure import passes as atlas_passes

    shown = code_page.atlas_timing_markdown()
    for name in code_page.ATLAS_LAYER_TIMING:
        assert inspect.getsource(getattr(atlas_passes, name)) in shown


def page_text(path) -> str:
    """The page's text as a reader copies it: tags (syntax highlighting's spans) removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


def test_the_built_pages_show_the_package_s_code(built_book):
    experiment = page_text(built_book["html"] / "book" / "experiment.html")
    for line in code_page.models_diff().splitlines():
        assert line in experiment
    assert code_page.standalone_model_code("conv2d").splitlines()[-1] in experiment
    atlas = page_text(built_book["html"] / "book" / "atlas.html")
    from convcarbon.atlas.measure import passes as atlas_passes

    for name in code_page.ATLAS_LAYER_TIMING:
        for line in inspect.getsource(getattr(atlas_passes, name)).splitlines():
            assert line in atlas


def otter_cases(path) -> list[str]:
    """The doctest code of an Otter-Grader test file in OK format (what Otter runs in the student's kernel)."""
    namespace: dict = {}
    exec(path.read_text(), namespace)
    assert namespace["OK_FORMAT"] is True
    return [case["code"] for suite in namespace["test"]["suites"] for case in suite["cases"]]


def run_otter_test(path, answers: dict) -> tuple[bool, str]:
    """(passed, output) of every case of the test file, run by doctest as Otter runs an OK-format test."""
    outputs, passed = [], True
    for code in otter_cases(path):
        test = doctest.DocTestParser().get_doctest(code, dict(answers), path.stem, str(path), 0)
        lines: list[str] = []
        runner = doctest.DocTestRunner(verbose=False)
        runner.run(test, out=lines.append)
        outputs += lines
        passed = passed and runner.failures == 0
    return passed, "".join(outputs)


def test_otter_multiplications_test_file():
    from synthetic import THIRD_LAYER, THIRD_LAYER_DEPTHWISE

    path = OTTER_TESTS / "multiplications.py"
    assert run_otter_test(path, {"my_count": THIRD_LAYER}) == (True, "")
    passed, output = run_otter_test(path, {"my_count": THIRD_LAYER_DEPTHWISE})
    assert not passed and "93% too low" in output  # the student sees the check's feedback
    passed, output = run_otter_test(path, {"my_count": "<script>\x1b[31m"})
    assert not passed and "must be a number, not text" in output and "\x1b" not in output


def test_otter_energy_reading_test_file(monkeypatch):
    from synthetic import saving_record

    from convcarbon.site import book

    record = saving_record()
    monkeypatch.setattr(book, "current_record", lambda: record)
    path = OTTER_TESTS / "energy_reading.py"
    assert run_otter_test(path, {"my_reading": "saved"}) == (True, "")
    passed, output = run_otter_test(path, {"my_reading": "used more"})
    assert not passed and "reads 'saved'" in output


def test_the_pages_code_is_read_without_loading_keras():
    """A chapter's kernel that shows the code must not load TensorFlow: its start-up log lines would land on the
    page as error output, which fails a `-W` build (`stderr_output: remove-warn`)."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from convcarbon.site import code_page\n"
        "code_page.models_markdown(); code_page.standard_model_markdown(); code_page.atlas_timing_markdown()\n"
        "print(sorted(name for name in ('keras', 'tensorflow') if name in sys.modules))\n"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]" and completed.stderr == ""
