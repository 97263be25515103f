"""Untrusted text made inert before it reaches a page.

Records come from anyone's machine. A string from a record (a CPU name, a
tracking method, a country, a folder name) is shown exactly as text: never
read as Markdown, MyST syntax, HTML, or matplotlib's mathtext.

Two kinds of text, told apart by their type: a plain `str` is untrusted (anything
read from a record), and `OwnMarkdown` is Markdown written by this package, into
which a record's strings enter only escaped, through `markdown_text`. Only
`OwnMarkdown` is ever glued or shown as Markdown (`publish.book.glue_text`,
`publish.book.displayed`); a plain string reaches a page only through `markdown_text`.
"""

from __future__ import annotations

import re
import string

# CommonMark lets a backslash escape every ASCII punctuation character, which then stands for itself.
_MARKDOWN_SPECIAL = re.compile("([" + re.escape(string.punctuation) + "])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def plain_text(value, max_length: int = 300) -> str:
    """One line of printable text: control characters and line breaks become spaces, long text is cut."""
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


def terminal_text(value, max_length: int = 300) -> str:
    """`value` for a terminal: every character that is not printable (ANSI escapes and C1 controls,
    line breaks, invisible format characters such as bidirectional overrides) becomes "?", long text is cut."""
    text = "".join(character if character.isprintable() else "?" for character in str(value))
    return text if len(text) <= max_length else text[: max_length - 1] + "…"
