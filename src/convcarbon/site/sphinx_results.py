"""A Sphinx extension that measures (or reuses) the results before any chapter runs.

With it, plain `jupyter-book build .` builds the same site as
`python -m convcarbon book`: at the start of the build it measures or reuses the
record and the atlas of this build (`prepare_build`, with training progress on the
terminal, not in a chapter's kernel), lets `shown` decide what the pages show,
copies the shown record's files for download, writes each chapter as an
.ipynb for the launch buttons, and when the results shown have changed since the
last successful build it clears the notebook cache and re-reads every page.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sphinx.errors import SphinxError

from convcarbon.errors import ConvCarbonError
from convcarbon.safe import terminal_text

from .build import BUILD_KEY_FILE, CHAPTERS_DIR, DOWNLOADS_DIR, build_key, copy_downloads
from .notebooks import write_notebooks
from .shown import Shown, build_start, measured_record, show_in_build


def prepare_build(book_folder: Path) -> Shown:
    """At the start of a build: the record named by the command that started it, else one measured or reused
    now under the profile of the environment (`reuse.measure_or_reuse`), and the atlas of that record's profile,
    measured or reused too; in a build that measures nothing (`shown.measuring`), neither: the pages show the
    reference record and atlas.
    Hands them to the chapters' kernels (`shown.show_in_build`)."""
    start = build_start(book_folder)
    record_folder = atlas_folder = None
    if start.measuring:
        from convcarbon.config import canonical_profile, resolve_config
        from convcarbon.records.reuse import Atlas, Training, measure_or_reuse

        if start.record_folder is None:
            trained = measure_or_reuse(Training(resolve_config()), start.results_root)
            record, record_folder = trained.record, trained.folder
        else:
            record, record_folder = measured_record(start.record_folder), start.record_folder
        atlas_folder = measure_or_reuse(Atlas(canonical_profile(record["profile"])), start.results_root).folder
    return show_in_build(book_folder, start, record_folder, atlas_folder)


class ResultsError(SphinxError):
    category = "convcarbon error"


@dataclass
class BuildState:
    key: str = ""
    key_file: Path = Path(BUILD_KEY_FILE)
    results_changed: bool = False


def _prepare(state: BuildState, app) -> None:
    root = Path(app.srcdir)
    try:
        shown = prepare_build(root)
    except ConvCarbonError as error:
        raise ResultsError(terminal_text(str(error), 2000)) from None  # Sphinx prints it on the terminal
    copy_downloads(shown.folder, root / DOWNLOADS_DIR)
    write_notebooks(root / CHAPTERS_DIR)
    build_dir = Path(app.outdir).parent
    state.key = build_key(shown)
    state.key_file = build_dir / BUILD_KEY_FILE
    state.results_changed = not state.key_file.exists() or state.key_file.read_text() != state.key
    if state.results_changed:
        # Cached outputs show the old results: run every chapter again.
        state.key_file.unlink(missing_ok=True)
        cache = app.config.nb_execution_cache_path or build_dir / ".jupyter_cache"
        shutil.rmtree(cache, ignore_errors=True)


def _outdated(state: BuildState, app, env, added, changed, removed) -> list[str]:
    """Every page, when the results changed: each one shows them."""
    return sorted(env.found_docs) if state.results_changed else []


def _finish(state: BuildState, app, exception) -> None:
    """Remember the results only after a build without errors or warnings (the -W gate), so that a
    failed build runs every chapter again next time."""
    if exception is None and not app._warncount and state.key:  # Sphinx counts warnings only here
        state.key_file.write_text(state.key)


def setup(app):
    state = BuildState()
    app.connect("builder-inited", partial(_prepare, state))
    app.connect("env-get-outdated", partial(_outdated, state))
    app.connect("build-finished", partial(_finish, state))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
