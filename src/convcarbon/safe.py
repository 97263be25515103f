"""Untrusted text made inert before it reaches a page.

Records come from anyone's machine. A string from a record (a CPU name, a
tracking method, a country, a folder name) is shown exactly as text: never
read as Markdown, MyST syntax, HTML, or matplotlib's mathtext.

Two kinds of text, told apart by their type: a plain `str` is untrusted (anything
read from a record), and `OwnMarkdown` is Markdown written by this package, into
which a record's strings enter only escaped, through `markdown_text`. Only
`OwnMarkdown` is ever glued or shown as Markdown (`site.book.glue_text`,
`site.book.displayed`); a plain string reaches a page only through `markdown_text`.

The terminal has its own type the same way: `TerminalText` is text this package
prints, into which an outside string (a record's, an atlas's, a hand-in's, a
folder's name) enters only through `terminal_text` or `terminal_lines`, which show
every control and invisible character as its escape (ESC as `\\x1b`, a
right-to-left override as `\\u202e`). Only `TerminalText` is printed (`show`). A CSV
cell goes through `csv_cell`.
"""

from __future__ import annotations

import re
import string
import sys
from collections.abc import Iterable

# CommonMark lets a backslash escape every ASCII punctuation character, which then stands for itself.
_MARKDOWN_SPECIAL = re.compile("([" + re.escape(string.punctuation) + "])")
# C0 and C1 controls, DEL, and the characters that reorder or hide text: bidirectional marks, embeddings,
# overrides and isolates, zero-width characters, the line and paragraph separators, the byte-order mark.
CONTROL_CHARACTER = r"[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]"
# A record's name-like strings (a CPU, a country, a version) hold none of them (training.measure.schema and
# atlas.measure.schema).
NO_CONTROL_PATTERN = "^" + CONTROL_CHARACTER.replace("[", "[^", 1) + "*$"
_CONTROL = re.compile(CONTROL_CHARACTER + "+")
# A cell a spreadsheet would run as a formula starts with one of these (after any spaces).
SPREADSHEET_FORMULA_STARTS = ("=", "+", "-", "@")


def plain_text(value, max_length: int = 300) -> str:
    """One line of printable text: control characters, line breaks and the characters that reorder or hide
    text become spaces, long text is cut."""
    text = _CONTROL.sub(" ", str(value)).strip()
    return text if len(text) <= max_length else text[: max_length - 1] + "…"


class OwnMarkdown(str):
    """Markdown written by this package: its own words and numbers, with every string from a record
    escaped into it by `markdown_text`. Build one only from text the package wrote itself."""


def markdown_text(value, max_length: int = 300) -> OwnMarkdown:
    """`value` as inert MyST Markdown: every punctuation character escaped, so that `<script>`,
    `**`, `$`, `{role}`, `[link](...)` and `` ` `` all show as the characters they are."""
    return OwnMarkdown(_MARKDOWN_SPECIAL.sub(r"\\\1", plain_text(value, max_length)))


def figure_text(value, max_length: int = 300) -> str:
    """`value` for a matplotlib label: a `$` would start mathtext, so it is escaped."""
    return plain_text(value, max_length).replace("$", r"\$")


class TerminalText(str):
    """Text for a terminal: this package's own words, with every outside string escaped into it by
    `terminal_text` or `terminal_lines`. Only `TerminalText` is printed (`show`)."""


def terminal_text(value, max_length: int = 300) -> TerminalText:
    """`value` as one line for a terminal, every character that is not printable shown as its escape:
    ANSI escapes and other C0 and C1 controls, DEL, line breaks, and invisible format characters such as
    bidirectional overrides and isolates ("\\x1b", "\\x0a", "\\u202e"); long text is cut. Text that is already
    `TerminalText` is returned as it is."""
    if isinstance(value, TerminalText):
        return value
    pieces = [_terminal_character(character) for character in str(value)]
    if sum(map(len, pieces)) > max_length:
        kept, length = [], 0
        for piece in pieces:
            if length + len(piece) > max_length - 1:
                break
            kept.append(piece)
            length += len(piece)
        pieces = [*kept, "…"]
    return TerminalText("".join(pieces))


def _terminal_character(character: str) -> str:
    if character.isprintable():  # every category but controls, format characters, separators other than " "
        return character
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def terminal_lines(lines: Iterable, max_length: int = 2000) -> TerminalText:
    """Lines for a terminal, each through `terminal_text` (a line break inside one is shown as "\\x0a", so an
    outside string cannot start a line of its own), joined by line breaks."""
    return TerminalText("\n".join(terminal_text(line, max_length) for line in lines))


def show(text: TerminalText, file=None, end: str = "\n") -> None:
    """Print `text` on stdout (or `file`) at once; only `TerminalText` is printed, anything else is refused."""
    if not isinstance(text, TerminalText):
        raise TypeError(
            f"only safe.TerminalText is printed, not {type(text).__name__}: "
            "pass outside strings through safe.terminal_text or safe.terminal_lines"
        )
    print(text, file=file or sys.stdout, end=end, flush=True)


def csv_cell(value, max_length: int = 300) -> str:
    """`value` for a CSV cell that a spreadsheet opens: controls escaped (`terminal_text`), and a cell that
    would run as a formula (= + - @) kept as text by a leading apostrophe."""
    text = terminal_text(value, max_length)
    return "'" + text if text.lstrip().startswith(SPREADSHEET_FORMULA_STARTS) else str(text)
