"""Which record the pages show: decided here, once per build and once per chapter kernel; nothing is measured here.

The lookup order:

1. the record measured (or reused) for this build (`sphinx_results.prepare_build`, through
   `reuse.measure_or_reuse`), whose folder the build hands to its chapters in CONVCARBON_RECORD;
2. else the book's reference record: the newest record of the original protocol (`full`, or
   its old name `seed`: `config.PROFILE_ALIASES`)
   among the records the book can show, else the newest record of any profile. So it is in a
   build without training (CONVCARBON_MEASURE=no, `book --no-measure`, as on the Pages
   workflow's publishing job) and in a chapter run on its own (Colab, a student's Jupyter);
3. else one clear `ConvCarbonError`.

The crossover atlas (book/atlas.md) follows the same order: the atlas measured (or reused) for
this build, named in CONVCARBON_ATLAS, else the reference atlas (the newest `full` atlas of the
TensorFlow backend, else the newest `full` atlas, else the newest), else one clear error.

The book's one preference among records, the original protocol (`of_reference_protocol`), is applied
here alone: to the reference record and atlas, and to the records and atlases a page compares with
them (`machine_records`, `compared_atlases`).

This module alone reads or writes the four variables (CONVCARBON_RECORD, CONVCARBON_ATLAS,
CONVCARBON_RESULTS, CONVCARBON_MEASURE), and it holds the one default of the results store (`results/` in the
book's folder, or in the working folder outside a book).

Used by: every chapter (through `book`), the Sphinx extension (`sphinx_results`) and
`python -m convcarbon book`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from convcarbon.config import canonical_profile, same_profile
from convcarbon.errors import ConfigError, ConvCarbonError
from convcarbon.records.store import COMMITTED_RECORDS

RECORD_VARIABLE = "CONVCARBON_RECORD"
ATLAS_VARIABLE = "CONVCARBON_ATLAS"
REFERENCE_ATLAS_BACKEND = "tensorflow"
RESULTS_VARIABLE = "CONVCARBON_RESULTS"
MEASURE_VARIABLE = "CONVCARBON_MEASURE"
DEFAULT_RESULTS_DIR = "results"  # in the book's folder, or in the working folder outside a book
REFERENCE_PROFILE = "full"  # the original protocol, preferred wherever the book picks (`of_reference_protocol`)


def book_root(start: Path | None = None) -> Path | None:
    """The folder holding the book's _config.yml and _toc.yml, from `start` (the working folder) upwards."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_config.yml").exists() and (folder / "_toc.yml").exists():
            return folder
    return None


def repository_root(start: Path | None = None) -> Path:
    """`book_root`, or one clear error outside a book."""
    root = book_root(start)
    if root is None:
        raise ConvCarbonError(f"no convcarbon book (_config.yml) above {(start or Path.cwd()).resolve()}")
    return root


def results_dir(given: str | Path | None = None, environ: Mapping[str, str] = os.environ) -> Path:
    """The results store: `given` (a command's --results-dir), else $CONVCARBON_RESULTS, else the one
    default, `results/` in the book's folder (or in the working folder outside a book)."""
    chosen = given or environ.get(RESULTS_VARIABLE)
    return Path(chosen) if chosen else (book_root() or Path.cwd()) / DEFAULT_RESULTS_DIR


def committed_records_dir() -> Path:
    """The book's `book/records/`; outside a book, the copy installed with the package (pyproject.toml
    maps `book/records` to `convcarbon/reference_records`), else, from a source checkout, its `book/records`."""
    root = book_root()
    if root is not None:
        return root / COMMITTED_RECORDS
    package = Path(__file__).resolve().parents[1]
    for folder in (package / "reference_records", package.parents[1] / COMMITTED_RECORDS):
        if folder.is_dir():
            return folder
    raise ConvCarbonError(
        "this installation of convcarbon lacks the book's reference records (convcarbon/reference_records)"
    )


def measuring(environ: Mapping[str, str] = os.environ) -> bool:
    """False when CONVCARBON_MEASURE=no: nothing trains, the pages show the reference record."""
    value = environ.get(MEASURE_VARIABLE, "yes").strip().lower()
    if value not in ("yes", "no"):
        raise ConfigError(f"{MEASURE_VARIABLE}={environ[MEASURE_VARIABLE]!r}: use yes or no")
    return value == "yes"


def of_reference_protocol(record: dict) -> bool:
    """Whether a training or atlas record was made with the original protocol (`REFERENCE_PROFILE`): the one
    preference of the book wherever it picks among records (the reference record and atlas, the record that
    speaks for a machine, the order of the atlases compared). A record stored under the profile's old name
    (`config.PROFILE_ALIASES`) counts as well."""
    return same_profile(record["profile"], REFERENCE_PROFILE)


def reference_record(records: list[dict]) -> dict:
    """The newest record of the original protocol, else the newest record of any profile."""
    if not records:
        raise ConvCarbonError(
            "no stored record to show: nothing is measured for this page (CONVCARBON_MEASURE=no, "
            "or a chapter run on its own) and no valid record is in the results store or among "
            "the book's records (book/records, shipped with the package)"
        )
    return max(records, key=lambda record: (of_reference_protocol(record), record["created_utc"]))


def machine_records(shown: dict, candidates: list[dict]) -> list[dict]:
    """The record a page shows, and for every machine and framework its best record: the original protocol
    first (`of_reference_protocol`), then the most runs, then the newest. A record of the shown record's own
    machine stays beside it when it is of another profile, so a quick or smoke build still shows the original
    protocol's verdicts. Grouped by hardware class (`machines.grouped`)."""
    from convcarbon.training.analyze.analysis import repeats
    from convcarbon.training.analyze.machines import grouped, machine_key

    best: dict[tuple, tuple] = {}
    for record in candidates:
        if record["fingerprint"] == shown["fingerprint"]:
            continue
        key = (machine_key(record), of_reference_protocol(record))
        rank = (repeats(record), record["created_utc"])
        if key not in best or rank > best[key][0]:
            best[key] = (rank, record)
    others = {}
    for (machine, is_reference), (_rank, record) in best.items():
        if not is_reference and (machine, True) in best:
            continue  # the machine's original-protocol record speaks for it
        if machine == machine_key(shown) and same_profile(record["profile"], shown["profile"]):
            continue  # the shown record supersedes an older one of the same kind
        others[machine, is_reference] = record
    return grouped([shown, *others.values()])


@dataclass(frozen=True)
class Shown:
    """What the pages show: the record, whether it was measured for this build or is the reference
    record, the records compared with it, and what the book skips.

    `record` of the reference carries `shown_as_reference: True`, so that a note or a table
    given the record alone can say so.
    """

    record: dict
    folder: Path
    measured: bool  # measured (or reused) for this build; False: the book's reference record
    records: tuple[dict, ...]  # every valid record the book can show, oldest first
    skipped: tuple[tuple[Path, str], ...]  # every folder it cannot show, with the reason
    compared: tuple[dict, ...]  # the shown record and the best of every other machine (`machine_records`)
    results_dir: Path
    committed_dir: Path
    atlas_folder: Path | None = None  # the atlas measured (or reused) for this build; None: the reference atlas

    @cached_property
    def atlases(self) -> tuple[dict, ...]:
        """Every valid atlas record in the results store and among the book's records, oldest first."""
        from convcarbon.training.analyze.discovery import book_atlases

        return tuple(book_atlases(self.results_dir, self.committed_dir))

    @cached_property
    def atlas(self) -> dict:
        """The atlas the pages show (`page_atlas`); resolved only when a page asks for it."""
        return page_atlas(self.atlas_folder, list(self.atlases))

    @cached_property
    def compared_atlases(self) -> tuple[dict, ...]:
        """The atlas shown, then the newest of every other machine, backend and profile (`compared_atlases`)."""
        return tuple(compared_atlases(self.atlas, list(self.atlases)))

    @property
    def atlas_measured(self) -> bool:
        return self.atlas_folder is not None

    @classmethod
    def assemble(
        cls, measured_folder: Path | None, results_root: Path, committed_root: Path, atlas_folder: Path | None = None
    ) -> Shown:
        """The pages of the record in `measured_folder` (measured for this build), or of the reference
        record when it is None; likewise the atlas in `atlas_folder`."""
        from convcarbon.training.analyze.discovery import book_records

        records, skipped = book_records(results_root, committed_root)
        if measured_folder is None:
            record = {**reference_record(records), "shown_as_reference": True}
            folder = Path(record["path"])
        else:
            record, folder = measured_record(measured_folder), Path(measured_folder)
        return cls(
            record=record,
            folder=folder,
            measured=measured_folder is not None,
            records=tuple(records),
            skipped=tuple(skipped),
            compared=tuple(machine_records(record, records)),
            results_dir=results_root,
            committed_dir=committed_root,
            atlas_folder=atlas_folder,
        )

    @classmethod
    def resolve(cls, environ: Mapping[str, str] = os.environ) -> Shown:
        """The lookup order of this module's docstring, read from `environ`; trains nothing."""
        named, atlas = environ.get(RECORD_VARIABLE), environ.get(ATLAS_VARIABLE)
        return cls.assemble(
            Path(named) if named else None,
            results_dir(environ=environ),
            committed_records_dir(),
            Path(atlas) if atlas else None,
        )

    def build_environment(self, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
        """The environment of a book build that shows these pages (`python -m convcarbon book` hands it
        to jupyter-book): the results store, and the record measured for it or no training at all."""
        environment = {**environ, RESULTS_VARIABLE: str(self.results_dir.resolve())}
        environment.pop(RECORD_VARIABLE, None)
        environment.pop(ATLAS_VARIABLE, None)  # the build runs or reuses its own atlas (`sphinx_results.prepare_build`)
        if self.measured:
            environment[RECORD_VARIABLE] = str(self.folder.resolve())
        else:
            environment[MEASURE_VARIABLE] = "no"
        return environment


def measured_record(folder: Path) -> dict:
    """The record measured for this build, in `folder`; one clear error when it is unusable."""
    from convcarbon.records.store import read_record

    record, problem = read_record(folder)
    if problem:
        raise ConvCarbonError(f"the record measured for this build ({folder}) is unusable: {problem}")
    return record


def current() -> Shown:
    """What this page shows, resolved once per kernel (again only when the variables or the working
    folder change, as after `book.measure_this_machine`)."""
    names = (RECORD_VARIABLE, ATLAS_VARIABLE, RESULTS_VARIABLE)
    return _current(*(os.environ.get(name) for name in names), Path.cwd())


@lru_cache(maxsize=4)
def _current(record_folder: str | None, atlas_folder: str | None, results: str | None, working_folder: Path) -> Shown:
    return Shown.resolve()


def show_in_this_kernel(folder: Path) -> None:
    """Hand a record measured in this kernel (a chapter run on its own) to every cell run afterwards."""
    os.environ[RECORD_VARIABLE] = str(folder.resolve())


@dataclass(frozen=True)
class BuildStart:
    """What a build was started with, read from the variables once at its start (`build_start`)."""

    results_root: Path
    measuring: bool  # False with CONVCARBON_MEASURE=no: nothing trains, the pages show the reference record
    record_folder: Path | None  # the record named by the command that started the build (measuring only)


def build_start(book_folder: Path) -> BuildStart:
    """The results store of a build (CONVCARBON_RESULTS, else `results/` in the book's folder), whether it
    measures, and the record the command that started it named, if any."""
    named, measures = os.environ.get(RECORD_VARIABLE), measuring()
    return BuildStart(
        results_root=Path(os.environ.get(RESULTS_VARIABLE) or book_folder / DEFAULT_RESULTS_DIR).resolve(),
        measuring=measures,
        record_folder=Path(named) if named and measures else None,
    )


def show_in_build(book_folder: Path, start: BuildStart, record_folder: Path | None, atlas_folder: Path | None) -> Shown:
    """The pages of a build: the record and atlas measured (or reused) for it, or, when None, the reference
    ones; handed with the results store to every chapter's kernel, which then resolves the same `Shown`."""
    os.environ[RESULTS_VARIABLE] = str(start.results_root)
    for variable, folder in ((RECORD_VARIABLE, record_folder), (ATLAS_VARIABLE, atlas_folder)):
        if folder is None:
            os.environ.pop(variable, None)  # each chapter finds the same reference record and atlas
        else:
            os.environ[variable] = str(Path(folder).resolve())
    return Shown.assemble(record_folder, start.results_root, book_folder / COMMITTED_RECORDS, atlas_folder)


def reference_atlas(records: list[dict]) -> dict:
    """The newest atlas of the original protocol on the reference backend, else the newest of the original
    protocol, else the newest atlas."""
    if not records:
        raise ConvCarbonError(
            "no atlas record to show: nothing is measured for this page (CONVCARBON_MEASURE=no, or a chapter "
            "run on its own) and no valid atlas record is in the results store or among the book's records "
            "(book/records); run `python -m convcarbon atlas` first"
        )

    def preference(record: dict) -> tuple:
        reference = of_reference_protocol(record)
        backend = record["versions"]["keras_backend"] == REFERENCE_ATLAS_BACKEND
        return reference, reference and backend, record["created_utc"]

    return max(records, key=preference)


def compared_atlases(shown: dict, atlases: list[dict]) -> list[dict]:
    """The atlas a page shows first, then the newest atlas of every other machine, backend and profile: those
    of the original protocol first, each group oldest first."""
    from convcarbon.training.analyze.machines import machine_key

    newest: dict[tuple, dict] = {}
    for record in sorted(atlases, key=lambda record: record["created_utc"]):  # a newer one of a kind replaces
        newest[(machine_key(record), canonical_profile(record["profile"]))] = record
    others = [record for record in newest.values() if record["fingerprint"] != shown["fingerprint"]]
    return [shown] + sorted(others, key=lambda record: (not of_reference_protocol(record), record["created_utc"]))


def page_atlas(atlas_folder: Path | None, atlases: list[dict]) -> dict:
    """The atlas measured for this build (in `atlas_folder`), else the reference atlas among `atlases`."""
    if atlas_folder is None:
        return reference_atlas(atlases)
    from convcarbon.atlas.measure.store import read_atlas_record

    record, problem = read_atlas_record(atlas_folder)
    if problem:
        raise ConvCarbonError(f"the atlas measured for this build ({atlas_folder}) is unusable: {problem}")
    return {**record, "path": str(atlas_folder)}
