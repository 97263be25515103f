"""`python -m convcarbon costs | run | book | report | collect | atlas | counters | grade`.

Every problem the user can fix ends in one line on stderr and a non-zero
exit, never a traceback; an interrupted run leaves nothing half-written.
Everything is printed through `safe.show`, which prints only `safe.TerminalText`:
a string from a record, an atlas, a hand-in or a folder name reaches the terminal
only escaped (`safe.terminal_text`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from convcarbon.records.store import COMMITTED_RECORDS

from . import quiet
from .config import (
    DEFAULT_PROFILE,
    PROFILE_ALIASES,
    PROFILE_VARIABLE,
    PROFILES,
    canonical_profile,
    resolve_config,
    same_profile,
)
from .errors import ConvCarbonError
from .safe import TerminalText, show, terminal_lines, terminal_text

EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130
PROFILE_FROM_ENVIRONMENT = ("run", "book", "atlas")  # the commands whose profile defaults to $CONVCARBON_PROFILE
OLD_PROFILE_NAMES = ", ".join(f"{old} is the old name of {new}" for old, new in PROFILE_ALIASES.items())
PROFILE_HELP = f"one of {', '.join(PROFILES)} (default: ${PROFILE_VARIABLE} or {DEFAULT_PROFILE}; {OLD_PROFILE_NAMES})"


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m convcarbon",
        description="Multiplications, time, energy and CO2 of Conv2D against SeparableConv2D on MNIST.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    costs = commands.add_parser("costs", help="print the analytic multiplication and parameter tables")
    costs.add_argument("--json", action="store_true", help="print JSON instead of text")

    run = commands.add_parser("run", help="train both models under CodeCarbon, or reuse a stored result")
    _add_run_options(run)

    from convcarbon.site.shown import MEASURE_VARIABLE, REFERENCE_PROFILE

    book = commands.add_parser("book", help="measure (or reuse), then build the Jupyter Book into _build/html")
    _add_run_options(book)
    book.add_argument(
        "--no-measure",
        action="store_true",
        help=f"train nothing: the pages show the book's reference record, the newest stored {REFERENCE_PROFILE} "
        f"record, else the newest record (as {MEASURE_VARIABLE}=no)",
    )

    report = commands.add_parser("report", help="print the comparison tables of stored results")
    report_format = report.add_mutually_exclusive_group()
    report_format.add_argument("--json", action="store_true", help="print JSON instead of text")
    report_format.add_argument("--csv", action="store_true", help="print the class table as CSV")
    report.add_argument("--profile", help=f"only results of this profile ({OLD_PROFILE_NAMES})")
    report.add_argument(
        "--class-table",
        metavar="DIR",
        help="one row per record handed in to DIR, as <name>/record.json or <name>.json; atlases (<name>/record.json) "
        "beside the training record of their machine",
    )
    _add_results_dir(report)

    collect = commands.add_parser("collect", help="validate the records under a folder and copy them into the book's")
    collect.add_argument(
        "source",
        metavar="SOURCE_DIR",
        help="a folder of record folders, as a results store holds them, and of runners' counters-*.json reports",
    )
    collect.add_argument(
        "--into",
        metavar="DIR",
        help=f"the records folder to add them to, relative to the working folder (default: the book's "
        f"{COMMITTED_RECORDS}, in the book that holds the working folder)",
    )
    _add_atlas_command(commands)
    counters = commands.add_parser(
        "counters", help="list this machine's energy counters, whether they can be read, and what run and atlas use"
    )
    counters.add_argument("--json", action="store_true", help="print JSON instead of text")
    grade = commands.add_parser("grade", help="check a class's hand-ins (answers and records): one row per student")
    grade.add_argument(
        "handins", metavar="HANDINS_DIR", help="one folder per student: answers.json, record.json, atlas/"
    )
    grade.add_argument("--csv", action="store_true", help="print CSV instead of a text table")
    return parser


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", help=PROFILE_HELP)
    parser.add_argument("--refresh", action="store_true", help="measure again even if a stored result matches")
    parser.add_argument("--mnist", metavar="PATH", help="local mnist.npz (default: $CONVCARBON_MNIST, else download)")
    parser.add_argument("--country", help="ISO 3166-1 alpha-3 code of the grid (default: $CONVCARBON_COUNTRY or USA)")
    parser.add_argument("--pue", type=float, help="power usage effectiveness of the data centre (default 1.0)")
    parser.add_argument(
        "--repeats",
        type=int,
        metavar="N",
        help=f"train each model N times, interleaved A B B A ... (default: 3 for {DEFAULT_PROFILE}, 2 otherwise)",
    )
    parser.add_argument(
        "--idle-seconds",
        type=float,
        metavar="S",
        dest="idle_duration_s",
        help="measure the machine at rest for S seconds first; 0 skips it "
        f"(default: 60 for {DEFAULT_PROFILE}, 20 for quick, 3 for smoke)",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show TensorFlow's and the book builder's own log lines too "
        f"(default: ${quiet.VERBOSE_VARIABLE}=1, else only this project's lines)",
    )
    _add_results_dir(parser)


def _add_results_dir(parser: argparse.ArgumentParser) -> None:
    from convcarbon.site.shown import RESULTS_VARIABLE

    parser.add_argument(
        "--results-dir",
        type=_results_dir,
        default=_results_dir(None),
        help=f"the results store (default: ${RESULTS_VARIABLE}, else results/ in the book's folder, "
        "or in the working folder outside a book)",
    )


def _results_dir(given: str | None) -> Path:
    from convcarbon.site.shown import results_dir

    return results_dir(given)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    _note_old_profile_name(arguments)
    # Ctrl+C and SIGTERM both unwind as KeyboardInterrupt, even where the shell
    # started us with SIGINT ignored (a background job of a script, as in CI).
    signal.signal(signal.SIGINT, _raise_keyboard_interrupt)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    verbose = quiet.verbose_requested(getattr(arguments, "verbose", True))
    try:
        with contextlib.nullcontext() if verbose else quiet.framework_logs_dropped():
            return COMMANDS[arguments.command](arguments)
    except ConvCarbonError as error:
        show(terminal_text(f"convcarbon: error: {error}", 2000), file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        show(terminal_text("convcarbon: interrupted; no result was stored"), file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception:
        if not INTERRUPT_SIGNALS:
            raise
        # The interrupt reached TensorFlow's C++ code, which can turn it into an error of its own as it unwinds
        # (pybind11: "ORIGINAL InvalidArgumentError REPLACED BY KeyboardInterrupt"): still the interrupt.
        show(terminal_text("convcarbon: interrupted; no result was stored"), file=sys.stderr)
        return EXIT_INTERRUPTED


def _note_old_profile_name(arguments) -> None:
    """One line on stderr when the profile asked for (--profile, else $CONVCARBON_PROFILE where the command reads
    it) is an old name (config.PROFILE_ALIASES): it still works, and the user learns the name to use."""
    asked = getattr(arguments, "profile", None)
    if asked is None and arguments.command in PROFILE_FROM_ENVIRONMENT:
        asked = os.environ.get(PROFILE_VARIABLE)
    if asked in PROFILE_ALIASES:
        note = f"convcarbon: note: profile {asked!r} is now called {PROFILE_ALIASES[asked]!r}; either name works"
        show(terminal_text(note), file=sys.stderr)


INTERRUPT_SIGNALS: list[int] = []  # the signals received while a command ran


def _raise_keyboard_interrupt(signum, frame):
    """Let Ctrl+C and SIGTERM unwind as KeyboardInterrupt, so the staging folder is removed; remember the signal,
    for an error that TensorFlow raises in its place."""
    INTERRUPT_SIGNALS.append(signum)
    raise KeyboardInterrupt


def command_costs(arguments) -> int:
    from .costs import all_cost_rows, format_shape, rows_by_model, total_multiplications, total_parameters

    tables = all_cost_rows()
    if arguments.json:
        show(json_text({name: [row.to_dict() for row in rows] for name, rows in tables.items()}, indent=2))
        return 0
    lines = []
    for name, rows in tables.items():
        header = f"{'model':<20} {'layer':<8} {'part':<10} {'input':>12} {'output':>12}"
        lines += ["", name, f"  {header} {'parameters':>11} {'multiplications':>16}"]
        for model, model_rows in rows_by_model(rows).items():
            lines += [
                f"  {row.model:<20} {row.layer:<8} {row.part:<10} {format_shape(row.input_shape):>12} "
                f"{format_shape(row.output_shape):>12} {row.parameters:>11,} {row.multiplications:>16,}"
                for row in model_rows
            ]
            lines.append(
                f"  {model + ' total':<54} {total_parameters(model_rows):>11,} {total_multiplications(model_rows):>16,}"
            )
    show(terminal_lines(lines))
    return 0


def json_text(value, indent: int) -> TerminalText:
    """JSON for the terminal: `json.dumps` writes every control and non-ASCII character as a \\u escape."""
    return TerminalText(json.dumps(value, indent=indent, ensure_ascii=True))


def _measure(arguments):
    """Run or reuse the experiment the arguments describe (`reuse.measure_or_reuse`)."""
    from convcarbon.records.reuse import Training, measure_or_reuse

    config = resolve_config(
        arguments.profile,
        arguments.country,
        arguments.pue,
        repeats=arguments.repeats,
        idle_duration_s=arguments.idle_duration_s,
    )
    return measure_or_reuse(Training(config, arguments.mnist), arguments.results_dir, refresh=arguments.refresh)


def command_run(arguments) -> int:
    from convcarbon.training.analyze.report import format_report

    show(format_report(_measure(arguments).record))
    return 0


def command_book(arguments) -> int:
    """Measure (or reuse) with the given options, then build; the package's Sphinx extension
    shows the record measured here (`shown`), so plain `jupyter-book build` builds the same site.
    Ends with what a person waited for: the ratios, the verdict, and where the site is."""
    import subprocess

    from convcarbon.site.shown import Shown, committed_records_dir, measuring, repository_root

    root = repository_root()  # checked before training, so a wrong folder fails at once
    measured = _measure(arguments).folder if measuring() and not arguments.no_measure else None
    # Without training this fails here in one line, not inside jupyter-book, when there is no record to show.
    shown = Shown.assemble(measured, Path(arguments.results_dir), committed_records_dir())
    command = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(root), "-W", "-n", "--keep-going"]
    if not quiet.verbose_requested(arguments.verbose):
        command.append("-q")  # Sphinx's progress lines left out; its warnings and errors still show
    show(terminal_text(f"Building the book: {' '.join(command[1:])}", 2000), file=sys.stderr)
    returncode = subprocess.run(command, env=shown.build_environment(), cwd=root).returncode
    if returncode == 0:
        show(_book_summary(shown, root))
    return returncode


def _book_summary(shown, root: Path) -> TerminalText:
    """What the pages show, in the terminal's words: the time and energy ratios with their intervals,
    the verdict, and where the site is."""
    from convcarbon.training.analyze.analysis import energy_verdict, repeats, separable_ratio_interval
    from convcarbon.training.analyze.report import machine_label

    record = shown.record
    energy = separable_ratio_interval(record, "energy_consumed")
    origin = "measured for this build" if shown.measured else "the book's reference record (nothing trained)"
    lines = [
        f"The pages show {record['profile']} record {record['fingerprint'][:12]}, {origin},",
        f"  on {terminal_text(machine_label(record))}",
        f"Separable / standard, ratio of medians (95% interval), {repeats(record)} run(s) per model:",
        f"  training time  {separable_ratio_interval(record, 'duration').sentence()}",
        f"  energy         {energy.sentence()}",
        f"  verdict        {energy_verdict(record).cell}",
        f"The site: {(root / '_build' / 'html' / 'index.html').resolve()}",
    ]
    return terminal_lines(lines)


def command_report(arguments) -> int:
    from convcarbon.records.store import ResultStore
    from convcarbon.training.analyze.report import format_report, report_json

    if arguments.profile and canonical_profile(arguments.profile) not in PROFILES:
        raise ConvCarbonError(f"unknown profile {arguments.profile!r}; choose one of: {', '.join(PROFILES)}")
    if arguments.class_table:
        return command_class_table(arguments)
    if arguments.csv:
        raise ConvCarbonError("--csv prints the class table only: add --class-table DIR")
    if not arguments.results_dir.is_dir():
        raise ConvCarbonError(f"no results directory {arguments.results_dir}; run `python -m convcarbon run` first")
    records = [
        record
        for record in ResultStore(arguments.results_dir).records()
        if (arguments.profile is None or same_profile(arguments.profile, record["profile"])) and _summarisable(record)
    ]
    if not records:
        raise ConvCarbonError(f"no stored results in {arguments.results_dir}; run `python -m convcarbon run` first")
    if arguments.json:
        show(json_text([report_json(record) for record in records], indent=2))
    else:
        reports = [terminal_lines([f"== {record['path']}", format_report(record)]) for record in records]
        show(TerminalText("\n\n".join(reports)))  # each report already TerminalText
    return 0


def _summarisable(record: dict) -> bool:
    """False, with the reason on stderr, for a valid record that cannot be summarised: one bad record never
    stops the report of the others."""
    from convcarbon.training.analyze.discovery import summary_problem

    problem = summary_problem(record)
    if problem:
        show(terminal_text(f"skipping result {record['path']}: {problem}", 2000), file=sys.stderr)
    return problem is None


def command_class_table(arguments) -> int:
    from convcarbon.course import classtable

    found, skipped = classtable.collect(Path(arguments.class_table))
    table = classtable.class_rows(found, arguments.profile)
    for line in classtable.skipped_lines(skipped):
        show(terminal_text(f"convcarbon: {line}", 2000), file=sys.stderr)
    if not table:
        wanted = f" of profile {arguments.profile}" if arguments.profile else ""
        raise ConvCarbonError(f"no usable record{wanted} in {terminal_text(arguments.class_table)}")
    if arguments.json:
        show(json_text(table, indent=2))
    else:
        show(classtable.format_csv(table) if arguments.csv else classtable.format_text(table), end="")
    return 0


def command_collect(arguments) -> int:
    from convcarbon.records.collect import collect, summary_text

    into = Path(arguments.into) if arguments.into else _book_records()
    collection = collect(arguments.source, into)
    show(summary_text(collection, arguments.source, into))
    if not collection.added and not collection.already_there:
        raise ConvCarbonError(f"no valid record or counters report in {arguments.source}; nothing was collected")
    return 0


def _book_records() -> Path:
    """The book's `book/records`, in the book that holds the working folder, wherever in it `collect` runs."""
    from convcarbon.site.shown import book_root

    root = book_root()
    if root is None:
        raise ConvCarbonError(
            f"no convcarbon book (_config.yml) above {Path.cwd()}: run collect inside the book, or name the "
            "records folder with --into"
        )
    return root / COMMITTED_RECORDS


# --- the crossover atlas (book/atlas.md) -------------------------------------------------------------------------
def _add_atlas_command(commands) -> None:
    atlas = commands.add_parser("atlas", help="time one Conv2D and one SeparableConv2D layer over a grid of shapes")
    atlas.add_argument("--profile", help=PROFILE_HELP)
    atlas.add_argument(
        "--json",
        action="store_true",
        help="print the atlas as one JSON object: the record, the work rule, every point, the crossovers, the checks",
    )
    atlas.add_argument("--refresh", action="store_true", help="measure again even if a stored atlas matches")
    _add_results_dir(atlas)


def command_atlas(arguments) -> int:
    from convcarbon.atlas.analyze.analysis import atlas_json, format_atlas
    from convcarbon.atlas.measure.run import measurement_evidence
    from convcarbon.records.reuse import Atlas, measure_or_reuse

    profile = resolve_config(arguments.profile).profile  # the same profiles and default as training
    record = measure_or_reuse(Atlas(profile), arguments.results_dir, refresh=arguments.refresh).record
    if arguments.json:  # the evidence says what a version-1 atlas did not record
        show(json_text({**atlas_json(record), **measurement_evidence(record)}, indent=1))
    else:
        show(terminal_lines(format_atlas(record).splitlines()))
    return 0


def command_counters(arguments) -> int:
    from convcarbon.energy.counters import find_counters, format_report

    report = find_counters()
    show(json_text(report.to_dict(), indent=2) if arguments.json else format_report(report))
    return 0


def command_grade(arguments) -> int:
    """The checked exercises over a class's hand-ins (`course.grade`); trains nothing."""
    from convcarbon.course import grade

    rows = grade.grade_folder(Path(arguments.handins))
    show(grade.format_csv(rows) if arguments.csv else grade.format_text(rows), end="")
    return 0


# ----------------------------------------------------------------------------------------------------------------
COMMANDS = {
    "costs": command_costs,
    "run": command_run,
    "book": command_book,
    "report": command_report,
    "collect": command_collect,
    "atlas": command_atlas,
    "counters": command_counters,
    "grade": command_grade,
}
