"""One glue surface: every chapter declares the keys it places (site.glue_keys), and is held to that list
both ways: each key its Markdown places is declared, each declared key is placed, and each declared key is
made by the code that glues it. Nothing is glued that no chapter places."""

import json
import re

import numpy as np
import pytest
from helpers import REPO_ROOT, committed_reference_record

from convcarbon.anatomy.publish import page as anatomy
from convcarbon.site import book, prose
from convcarbon.site.glue_keys import CHAPTER_GLUE_KEYS, chapter_glue_keys

# {glue}`key`, {glue:md}`key`, {glue:text}`key:format`, {glue:figure}`key` ... and the directives
# ```{glue:md} key, ```{glue:figure} key.
GLUE_ROLE = re.compile(r"\{glue(?::[a-z]+)?\}`([A-Za-z0-9_]+)")
GLUE_DIRECTIVE = re.compile(r"^(?:```|:::)\{glue(?::[a-z]+)?\}\s+([A-Za-z0-9_]+)", re.MULTILINE)
# Keys a chapter's code glues by name, one at a time.
GLUED_BY_NAME = re.compile(r"book\.glue_(?:text|plain)\(\s*\"([A-Za-z0-9_]+)\"")


def placed_keys(markdown: str) -> set[str]:
    return set(GLUE_ROLE.findall(markdown)) | set(GLUE_DIRECTIVE.findall(markdown))


def chapters() -> dict[str, str]:
    return {path.stem: path.read_text() for path in sorted((REPO_ROOT / "book").glob("*.md"))}


def test_the_parser_finds_roles_with_formats_and_directives():
    text = "a {glue:md}`one` b {glue:text}`two:,` c {glue}`three`\n```{glue:md} four\n:format: myst\n```\n"
    assert placed_keys(text) == {"one", "two", "three", "four"}


@pytest.mark.parametrize("chapter", sorted(chapters()))
def test_every_chapter_places_exactly_the_keys_it_declares(chapter):
    placed = placed_keys(chapters()[chapter])
    declared = CHAPTER_GLUE_KEYS.get(chapter, frozenset())
    assert placed - declared == set(), f"{chapter}.md places keys it does not declare"
    assert declared - placed == set(), f"{chapter} declares keys its Markdown never places"


def test_every_declared_chapter_exists_and_an_unknown_one_is_refused():
    assert set(CHAPTER_GLUE_KEYS) <= set(chapters())
    with pytest.raises(ValueError, match="declares no glue keys"):
        chapter_glue_keys("no-such-chapter")


def committed_atlas() -> dict:
    """One committed atlas (the one the results chapter sets against the breakdown, in a build without one)."""
    folder = sorted((REPO_ROOT / "book" / "records").glob("atlas-*"))[0]
    return json.loads((folder / "record.json").read_text())


def made_for_chapters(record: dict) -> dict[str, set[str]]:
    """What the package's producers make, for the chapters that glue them."""
    numbers = set(prose.number_texts(book.key_numbers(record)))
    return {
        "experiment": numbers,
        "measuring": numbers,
        "results": numbers
        | set(prose.footprint_numbers([record]))
        | set(anatomy.breakdown_texts(record))
        | set(anatomy.tutorial_texts(record))
        | set(anatomy.epoch_texts(record))
        | set(anatomy.atlas_batch_text(committed_atlas())),
        "ethics": numbers | set(prose.trade_off_phrases(record)) | set(anatomy.inference_texts(record)),
    }


def test_every_key_a_chapter_declares_is_made_by_its_glue_code():
    made = made_for_chapters(committed_reference_record())
    texts = chapters()
    for chapter, keys in made.items():
        by_name = set(GLUED_BY_NAME.findall(texts[chapter]))
        missing = chapter_glue_keys(chapter) - keys - by_name
        assert not missing, (chapter, missing)


def test_nothing_is_made_for_glue_that_no_chapter_places():
    made = set().union(*made_for_chapters(committed_reference_record()).values())
    placed_anywhere = set().union(*CHAPTER_GLUE_KEYS.values())
    assert made <= placed_anywhere, made - placed_anywhere


def test_a_chapter_glues_only_its_own_keys(monkeypatch):
    glued = {}

    def glue(name, value, display):
        glued[name] = getattr(value, "data", value)  # a text is glued as Markdown, a number as itself

    monkeypatch.setattr("myst_nb.glue", glue)
    texts = prose.number_texts(book.key_numbers(committed_reference_record()))
    book.glue_texts(texts, chapter="experiment")
    assert set(glued) == chapter_glue_keys("experiment") & set(texts)
    assert "idle_share" in texts and "idle_share" not in glued  # made for results, not placed by experiment
    glued.clear()
    book.glue_numbers({"full_epochs": np.int64(150), "not_placed": 1}, chapter="instructors")
    assert glued == {"full_epochs": 150} and type(glued["full_epochs"]) is int  # not shown as np.int64(150)
