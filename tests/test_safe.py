"""Strings from records are shown as the characters they are: MyST Markdown renders them as text."""

import pytest
from helpers import HOSTILE
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.myst_role import myst_role_plugin

from convcarbon.safe import (
    TerminalText,
    csv_cell,
    figure_text,
    markdown_text,
    plain_text,
    show,
    terminal_lines,
    terminal_text,
)


def render(text: str) -> str:
    parser = MarkdownIt("commonmark").use(dollarmath_plugin).use(myst_role_plugin)
    return parser.render(text)


def test_markdown_text_renders_as_exactly_the_original_text():
    html = render(markdown_text(HOSTILE))
    assert "<img" not in html and "<script" not in html and "<strong>" not in html and "<a " not in html
    assert "math" not in html and "role" not in html
    assert (
        html
        == "<p>"
        + plain_text(HOSTILE).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
        + "</p>\n"
    )


def test_markdown_text_keeps_one_line_and_a_bounded_length():
    assert "\n" not in markdown_text("a\n\n# heading\n- list")
    assert render(markdown_text("a\n\n# heading")).count("<p>") == 1
    assert len(plain_text("x" * 1000, max_length=50)) == 50


def test_plain_text_strips_terminal_control_sequences():
    assert plain_text("AMD\x1b[31m EPYC\x07") == "AMD [31m EPYC"


def test_figure_text_escapes_mathtext():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots()
    axes.set_title(figure_text("$\\frac{unclosed"))
    figure.canvas.draw()  # an unescaped "$\frac{" would raise a mathtext parse error here
    assert axes.get_title() == "\\$\\frac{unclosed"
    plt.close(figure)


# ---- The terminal and CSV (issue 21): one type, every control and invisible character shown as its escape ----

# ANSI (CSI, OSC), C0 and C1 controls, DEL, line breaks, bidirectional overrides and isolates, zero-width ones.
CONTROLS = "\x1b[31m\x1b]0;title\x07\x00\x08\x7f\x85\x9b\u202e\u2066\u200b\ufeff\r\n"
CONTROLS_SHOWN = "\\x1b[31m\\x1b]0;title\\x07\\x00\\x08\\x7f\\x85\\x9b\\u202e\\u2066\\u200b\\ufeff\\x0d\\x0a"


def test_terminal_text_shows_every_control_and_invisible_character_as_its_escape():
    assert terminal_text(CONTROLS) == CONTROLS_SHOWN
    assert terminal_text("Intel(R) Xeon(R) — 2.2 GHz, Zürich") == "Intel(R) Xeon(R) — 2.2 GHz, Zürich"
    assert terminal_text("\U000e0041") == "\\U000e0041"  # an invisible tag character beyond the BMP


def test_terminal_text_is_cut_between_escapes_and_leaves_terminal_text_as_it_is():
    cut = terminal_text("x" * 8 + "\x1b" * 5, max_length=12)
    assert cut == "xxxxxxxx…" and len(cut) <= 12  # never half an escape
    assert terminal_text(terminal_text(CONTROLS)) == CONTROLS_SHOWN


def test_terminal_lines_let_no_string_start_a_line_of_its_own():
    text = terminal_lines(["first", "second\nthird"])
    assert isinstance(text, TerminalText) and text.splitlines() == ["first", "second\\x0athird"]


def test_only_terminal_text_is_printed(capsys):
    with pytest.raises(TypeError, match="only safe.TerminalText is printed"):
        show("a plain string")
    show(terminal_text(CONTROLS))
    assert capsys.readouterr().out == CONTROLS_SHOWN + "\n"


@pytest.mark.parametrize(
    "value, cell",
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("  =1", "'  =1"),
        ("\x1b[31m=1", "\\x1b[31m=1"),  # escaped: a backslash first, not a formula
        ("0.59 (0.50–0.70)", "0.59 (0.50–0.70)"),
    ],
)
def test_a_csv_cell_is_escaped_and_never_runs_as_a_formula(value, cell):
    assert csv_cell(value) == cell


def test_pages_lose_c1_and_bidirectional_characters_too():
    assert plain_text("AMD\x85EPYC\u202e\u2066x\u200by") == "AMD EPYC x y"


def test_names_with_control_or_bidirectional_characters_are_refused_by_both_schemas():
    from helpers import valid_record

    from convcarbon.training.measure.schema import record_problem

    for value in ("CPU\x1b[31m", "CPU\u202e", "CPU\x85", "CPU\u2066"):
        record = valid_record()
        record["hardware"]["cpu_model"] = value
        problem = record_problem(record)
        assert problem == (
            "does not match the record schema at hardware/cpu_model: "
            "a name may hold no control character and nothing that reorders or hides text"
        )
        record = valid_record()
        record["versions"]["keras_backend"] = value
        assert "does not match the record schema at versions/keras_backend" in record_problem(record)
    record = valid_record()
    record["hardware"]["cpu_model"] = "Intel(R) Xeon(R) CPU @ 2.20GHz — Zürich"
    assert record_problem(record) is None
