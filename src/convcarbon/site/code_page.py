"""The package's own code on the pages: the two models' Keras definitions and the atlas's layer timing.

The code shown is read from the source files when the page is built, so page and package cannot drift apart.
It is read as text (`function_source`), never imported: importing `models` would load TensorFlow into the
chapter's kernel, whose start-up log lines would land on the page as error output.

`models.build_model` serves both models; each model's definition is that function with
its one architecture-dependent line (the convolution chosen) written out, and the page sets the two side by
side as a diff, where that line is the only one that differs. The tests check that each definition, run,
builds the model `build_model` builds, and that every other line is the source's own.

Used by: book/experiment.md, book/atlas.md.
"""

from __future__ import annotations

import ast
import difflib
import importlib.util
from pathlib import Path

from convcarbon import architecture
from convcarbon.architecture import ARCHITECTURES, DISPLAY_NAMES
from convcarbon.safe import OwnMarkdown

# The lines of models.build_model that name the architecture, and what each becomes in one model's definition.
SIGNATURE = "def build_model(architecture: str) -> keras.Model:"
CHECK_LINE = "check_architecture(architecture)"
CHOICE_LINE = "convolution = CONVOLUTION_LAYERS[architecture]"
# The constants of architecture.py that build_model uses, written out so that the code runs on its own.
CONSTANTS = ("INPUT_SHAPE", "CONV_FILTERS", "KERNEL_SIZE", "POOL_SIZE", "DROPOUT_RATE", "DENSE_UNITS", "NUM_CLASSES")
# The atlas's code that builds one layer and compiles its passes (atlas/measure/passes.py), shown on
# book/atlas.md: the builder and TensorFlow's passes, the book's default backend. A rewrite of the atlas's timing
# must keep these names, or change them here.
ATLAS_LAYER_TIMING = ("build_passes", "_tensorflow")


def function_source(module: str, name: str) -> str:
    """The source of the top-level function `name` of the package's module `module`, as `inspect.getsource` gives
    it (decorators included), read from the module's file without importing the module."""
    origin = importlib.util.find_spec(module).origin
    text = Path(origin).read_text()
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            start = min([node.lineno] + [decorator.lineno for decorator in node.decorator_list]) - 1
            return "".join(text.splitlines(keepends=True)[start : node.end_lineno])
    raise ValueError(f"{module} defines no function {name!r}: update site.code_page")


def model_definition(name: str) -> str:
    """`models.build_model` for one architecture: the source, with the architecture's convolution written out."""
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; choose one of: {', '.join(ARCHITECTURES)}")
    source = function_source("convcarbon.models", "build_model")
    for line in (SIGNATURE, CHECK_LINE, CHOICE_LINE):
        if line not in source:
            raise ValueError(f"models.build_model no longer holds the line {line!r}: update site.code_page")
    lines = []
    for line in source.splitlines():
        if CHECK_LINE in line:
            continue
        line = line.replace(SIGNATURE, "def build_model() -> keras.Model:")
        lines.append(line.replace(CHOICE_LINE, f"convolution = keras.layers.{DISPLAY_NAMES[name]}"))
    return "\n".join(lines) + "\n"


def constants_source() -> str:
    """The architecture's constants as assignments, with the values the package uses."""
    return "".join(f"{name} = {getattr(architecture, name)!r}\n" for name in CONSTANTS)


def standalone_model_code(name: str) -> str:
    """One model's definition that runs on its own in a notebook: imports, constants, the function."""
    return "import keras\n\n" + constants_source() + "\n\n" + model_definition(name)


def models_diff() -> str:
    """The two models' definitions as one unified diff: every shared line once, the differing one marked."""
    standard, separable = (model_definition(name).splitlines() for name in ARCHITECTURES)
    diff = difflib.unified_diff(
        standard, separable, "Conv2D model", "SeparableConv2D model", n=len(standard), lineterm=""
    )
    return "\n".join(list(diff)[3:]) + "\n"  # without the file header and the hunk's line numbers


def fenced(code: str, language: str) -> OwnMarkdown:
    """Code as a Markdown block; the package's own source, so it is the package's own Markdown."""
    fence = "````"
    if fence in code:
        raise ValueError("code holding four backticks cannot be fenced here")
    return OwnMarkdown(f"{fence}{language}\n{code}{fence}\n")


def models_markdown() -> OwnMarkdown:
    """The page's block: the two definitions as a diff (the one differing line marked)."""
    return fenced(models_diff(), "diff")


def standard_model_markdown() -> OwnMarkdown:
    """The standard model's code, whole, ready to copy into a notebook."""
    return fenced(standalone_model_code("conv2d"), "python")


def atlas_timing_markdown() -> OwnMarkdown:
    """The atlas's code that builds one layer and compiles its two passes (`ATLAS_LAYER_TIMING`)."""
    sources = [function_source("convcarbon.atlas.measure.passes", name) for name in ATLAS_LAYER_TIMING]
    return fenced("\n\n".join(sources), "python")
