"""Which record a page shows when nothing is measured for it: the book's reference record.

A build measures (or reuses) the result of its own machine unless
CONVCARBON_MEASURE=no, as on the Pages workflow's publishing job, which trains
nothing, and as in a chapter run on its own (Colab, a student's Jupyter).
Then the pages show the newest record of the original protocol (`seed`) among
the records the book can show, else the newest record of any profile.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from ..errors import ConfigError, ConvCarbonError

MEASURE_VARIABLE = "CONVCARBON_MEASURE"
REFERENCE_PROFILE = "seed"


def measuring(environ: Mapping[str, str] = os.environ) -> bool:
    """False when CONVCARBON_MEASURE=no: nothing trains, the pages show the reference record."""
    value = environ.get(MEASURE_VARIABLE, "yes").strip().lower()
    if value not in ("yes", "no"):
        raise ConfigError(f"{MEASURE_VARIABLE}={environ[MEASURE_VARIABLE]!r}: use yes or no")
    return value == "yes"


def reference_record(records: list[dict]) -> dict:
    """The newest `seed` record, else the newest record of any profile."""
    if not records:
        raise ConvCarbonError(
            "no stored record to show: nothing is measured for this page (CONVCARBON_MEASURE=no, "
            "or a chapter run on its own) and no valid record is in the results store or among "
            "the book's records (book/records, shipped with the package)"
        )
    seed = [record for record in records if record["profile"] == REFERENCE_PROFILE]
    return max(seed or records, key=lambda record: record["created_utc"])
