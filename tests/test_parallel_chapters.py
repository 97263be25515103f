"""The chapters run one per CPU (convcarbon.site.sphinx_parallel): only with every extension safe for it."""

import os
import re
from types import SimpleNamespace

import pytest
from helpers import REPO_ROOT
from sphinx.errors import ConfigError

from convcarbon.site.sphinx_parallel import VETTED, chapter_jobs, serial_reasons


def extension(safe):
    return SimpleNamespace(parallel_read_safe=safe)


def test_auto_is_one_chapter_per_usable_cpu_and_a_bad_setting_is_refused():
    assert chapter_jobs("auto") == len(os.sched_getaffinity(0))
    assert chapter_jobs(1) == 1 and chapter_jobs(3) == 3
    for bad in (0, -2, "two", 1.5, True, None):
        with pytest.raises(ConfigError, match="convcarbon_parallel_chapters must be auto or a whole number"):
            chapter_jobs(bad)


def test_the_vetted_extensions_are_marked_safe_and_any_other_silent_one_keeps_the_build_serial():
    vetted = {name: extension(None) for name in VETTED}
    assert serial_reasons({**vetted, "myst_nb": extension(True)}) == []
    assert all(each.parallel_read_safe for each in vetted.values())

    reasons = serial_reasons({"someone_elses": extension(None), "careful": extension(False)})
    assert reasons == [
        "someone_elses does not declare whether it is safe for parallel reading",
        "careful declares itself unsafe for parallel reading",
    ]


def test_a_vetted_extension_at_another_version_keeps_the_build_serial(monkeypatch):
    monkeypatch.setattr("convcarbon.site.sphinx_parallel._installed_version", lambda distribution: "9.9")
    silent = extension(None)
    (reason,) = serial_reasons({"sphinx_multitoc_numbering": silent})
    assert reason == "sphinx_multitoc_numbering 9.9 is installed; 0.1.3 was read and found safe"
    assert silent.parallel_read_safe is None  # left as it declared itself: Sphinx reads serially


def test_requirements_pin_each_vetted_extension_at_the_version_read():
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==([^\s#]+)", (REPO_ROOT / "requirements.txt").read_text(), re.M))
    for distribution, version_read in VETTED.values():
        assert pins.get(distribution) == version_read, distribution


def test_the_built_book_ran_its_chapters_at_the_same_time(built_book):
    """Each chapter's run, as the notebook cache stored it (end and length), overlaps another's on a machine with
    two CPUs or more: the build was parallel, and its pages are the ones the other tests read."""
    from jupyter_cache import get_cache

    runs = [
        (record.created.timestamp() - record.data["execution_seconds"], record.created.timestamp())
        for record in get_cache(built_book["root"] / "_build" / ".jupyter_cache").list_cache_records()
    ]
    assert len(runs) >= 9  # every chapter with code ran
    overlapping = any(
        start < other_end and other_start < end
        for start, end in runs
        for other_start, other_end in runs
        if (start, end) != (other_start, other_end)
    )
    assert overlapping == (chapter_jobs("auto") > 1)
