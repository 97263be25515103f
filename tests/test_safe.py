"""Strings from records are shown as the characters they are: MyST Markdown renders them as text."""

from helpers import HOSTILE
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.myst_role import myst_role_plugin

from convcarbon.safe import figure_text, markdown_text, plain_text


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
