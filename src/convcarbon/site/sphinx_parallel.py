"""A Sphinx extension that runs the book's chapters several at a time, one per CPU.

The chapters run while Sphinx reads them (myst-nb executes a notebook as it parses it), and Jupyter Book 1 reads
them one after another: `jupyter-book build` has no `-j`. Sphinx reads in parallel when asked (`app.parallel`)
and when every extension declares itself safe for it. myst-nb, Jupyter Book's theme and this package's
extensions do; three extensions that Jupyter Book loads declare nothing, and Sphinx then reads serially. Each was
read for this, at the version pinned in requirements.txt (`VETTED`):

- sphinx_multitoc_numbering replaces how section numbers are assigned, which Sphinx does after every chapter
  has been read and merged;
- sphinx-mathjax-offline sets a path in the configuration and copies files when the build has finished;
- sphinx_jupyterbook_latex adds transforms that change only the document being read, and settings made
  before reading starts.

So with these three marked safe, the chapters run `convcarbon_parallel_chapters` at a time (in `_config.yml`:
`auto`, one per CPU this process may use, or a number; 1 reads one after another, as Jupyter Book does). An
installed version other than the one read, or any other extension that declares nothing, leaves the build
serial, and Sphinx's log says why (an info line, which `-q` hides). BENCHMARKS.md ("Issue 21's suite time,
third step") compares the pages and the time.

The notebook cache (jupyter-cache) creates its database on first use; two chapters that start at once both
create it and one fails ("table settings already exists"), so the database is made before reading starts.
"""

from __future__ import annotations

import os
from importlib import metadata

from sphinx.errors import ConfigError
from sphinx.util import logging

CONFIG_VALUE = "convcarbon_parallel_chapters"
# Extension (as Sphinx names it) -> (its distribution, the version read and found safe for parallel reading).
VETTED = {
    "sphinx_multitoc_numbering": ("sphinx-multitoc-numbering", "0.1.3"),
    "sphinx-mathjax-offline": ("sphinx-mathjax-offline", "0.0.2"),
    "sphinx_jupyterbook_latex": ("sphinx-jupyterbook-latex", "1.0.0"),
}

logger = logging.getLogger(__name__)


def chapter_jobs(setting: object) -> int:
    """How many chapters run at once: `auto` is one per CPU this process may use."""
    if setting == "auto":
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if isinstance(setting, int) and not isinstance(setting, bool) and setting >= 1:
        return setting
    raise ConfigError(f"{CONFIG_VALUE} must be auto or a whole number of at least 1, not {setting!r}")


def serial_reasons(extensions: dict) -> list[str]:
    """Why the chapters cannot be read in parallel: each extension that does not declare itself safe and was not
    read at its installed version. Marks the vetted ones safe."""
    reasons = []
    for name, extension in extensions.items():
        if extension.parallel_read_safe is not None:
            if not extension.parallel_read_safe:
                reasons.append(f"{name} declares itself unsafe for parallel reading")
            continue
        if name not in VETTED:
            reasons.append(f"{name} does not declare whether it is safe for parallel reading")
            continue
        distribution, version_read = VETTED[name]
        installed = _installed_version(distribution)
        if installed != version_read:
            reasons.append(f"{name} {installed} is installed; {version_read} was read and found safe")
            continue
        extension.parallel_read_safe = True
    return reasons


def _installed_version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "(no version found)"


def _choose_jobs(app, config) -> None:
    jobs = chapter_jobs(config[CONFIG_VALUE])
    reasons = serial_reasons(app.extensions) if jobs > 1 else []
    if reasons:
        logger.info("the chapters run one after another: %s", "; ".join(reasons))
    app.parallel = 1 if reasons else jobs


def _create_notebook_cache(app) -> None:
    """Before parallel reading, the notebook cache's database exists (see the module's docstring)."""
    notebooks = app.env.mystnb_config  # as myst-nb resolved it when the builder started
    if app.parallel > 1 and notebooks.execution_mode == "cache":
        from jupyter_cache import get_cache

        get_cache(notebooks.execution_cache_path).db  # noqa: B018 (creates the database on first use)


def setup(app):
    app.add_config_value(CONFIG_VALUE, "auto", "", types=(str, int))
    app.connect("config-inited", _choose_jobs, priority=900)  # after every extension has been set up
    app.connect("builder-inited", _create_notebook_cache, priority=900)  # after sphinx_results clears the cache
    return {"parallel_read_safe": True, "parallel_write_safe": True}
