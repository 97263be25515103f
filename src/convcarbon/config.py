"""One frozen experiment configuration, chosen by a named profile.

Every result record stores the whole configuration, so a number can always
be traced back to the protocol that produced it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import ConfigError

MNIST_TRAIN_IMAGES = 60_000
MNIST_TEST_IMAGES = 10_000

# Used when neither --country nor CONVCARBON_COUNTRY names the grid. It is
# never silent: the record stores `country_source` and every table shows it.
DEFAULT_COUNTRY_ISO_CODE = "USA"
MAX_REPEATS = 50
MAX_IDLE_DURATION_S = 3600.0
MAX_PUE = 3.0  # the least efficient data centres report about 2.5; a record's schema bounds it too


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that decides what is trained and how it is measured."""

    profile: str
    epochs: int
    batch_size: int
    train_images: int  # taken from the start of the 60,000 MNIST training images
    test_images: int  # taken from the start of the 10,000 MNIST test images
    validation_split: float = 0.2
    repeats: int = 1  # each model is trained this many times, interleaved A B B A ...
    seed: int = 42  # repeat i uses seed + i
    idle_duration_s: float = 0.0  # the machine's power at rest is measured this long first; 0 skips it
    country_iso_code: str = DEFAULT_COUNTRY_ISO_CODE
    country_source: str = "default"  # "default", "CONVCARBON_COUNTRY" or "--country"
    pue: float = 1.0
    measure_power_secs: float = 5.0
    tracking_mode: str = "machine"

    def __post_init__(self) -> None:
        _check(self.epochs >= 1, f"epochs must be at least 1, not {self.epochs}")
        _check(self.batch_size >= 1, f"batch_size must be at least 1, not {self.batch_size}")
        _check(
            1 <= self.train_images <= MNIST_TRAIN_IMAGES,
            f"train_images must be between 1 and {MNIST_TRAIN_IMAGES}, not {self.train_images}",
        )
        _check(
            1 <= self.test_images <= MNIST_TEST_IMAGES,
            f"test_images must be between 1 and {MNIST_TEST_IMAGES}, not {self.test_images}",
        )
        _check(
            0.0 <= self.validation_split < 1.0,
            f"validation_split must be in [0, 1), not {self.validation_split}",
        )
        _check(1 <= self.repeats <= MAX_REPEATS, f"repeats must be between 1 and {MAX_REPEATS}, not {self.repeats}")
        _check(
            0 <= self.idle_duration_s <= MAX_IDLE_DURATION_S,
            f"idle duration must be between 0 and {MAX_IDLE_DURATION_S:.0f} s, not {self.idle_duration_s}",
        )
        _check(self.pue >= 1.0, f"PUE must be 1.0 or more, not {self.pue}")
        _check(self.pue <= MAX_PUE, f"PUE must be at most {MAX_PUE:g}, not {self.pue}")
        _check(
            self.measure_power_secs > 0,
            f"measure_power_secs must be positive, not {self.measure_power_secs}",
        )
        _check(
            self.tracking_mode in ("machine", "process"),
            f"tracking_mode must be 'machine' or 'process', not {self.tracking_mode!r}",
        )
        _check_country(self.country_iso_code)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


PROFILES: dict[str, dict] = {
    # The original tutorial's protocol (all data, 25 epochs, batch 250), trained
    # three times per model: the fewest repeats that give a median and a spread.
    "seed": dict(
        epochs=25,
        batch_size=250,
        train_images=MNIST_TRAIN_IMAGES,
        test_images=MNIST_TEST_IMAGES,
        repeats=3,
        idle_duration_s=60.0,
        measure_power_secs=5.0,
    ),
    # All data, few epochs: minutes on a laptop.
    "quick": dict(
        epochs=3,
        batch_size=250,
        train_images=MNIST_TRAIN_IMAGES,
        test_images=MNIST_TEST_IMAGES,
        repeats=2,
        idle_duration_s=20.0,
        measure_power_secs=5.0,
    ),
    # A small subset, two epochs (a warm-up and a steady one), two repeats:
    # seconds, for tests and CI, yet every part of the method runs.
    "smoke": dict(
        epochs=2,
        batch_size=250,
        train_images=2_000,
        test_images=1_000,
        repeats=2,
        idle_duration_s=3.0,
        measure_power_secs=1.0,
    ),
}
DEFAULT_PROFILE = "seed"


def resolve_config(
    profile: str | None = None,
    country: str | None = None,
    pue: float | None = None,
    repeats: int | None = None,
    idle_duration_s: float | None = None,
    environ: Mapping[str, str] = os.environ,
) -> ExperimentConfig:
    """Build the configuration from flags, then environment, then defaults."""
    profile_name = profile or environ.get("CONVCARBON_PROFILE") or DEFAULT_PROFILE
    if profile_name not in PROFILES:
        raise ConfigError(f"unknown profile {profile_name!r}; choose one of: {', '.join(PROFILES)}")
    settings = dict(PROFILES[profile_name])
    if country:
        settings.update(country_iso_code=country.upper(), country_source="--country")
    elif environ.get("CONVCARBON_COUNTRY"):
        settings.update(
            country_iso_code=environ["CONVCARBON_COUNTRY"].upper(),
            country_source="CONVCARBON_COUNTRY",
        )
    if pue is not None:
        settings["pue"] = pue
    if repeats is not None:
        settings["repeats"] = repeats
    if idle_duration_s is not None:
        settings["idle_duration_s"] = idle_duration_s
    return ExperimentConfig(profile=profile_name, **settings)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def _check_country(code: str) -> None:
    """Accept only ISO 3166-1 alpha-3 codes for which CodeCarbon has grid data."""
    from .grid import known_country_codes

    if code not in known_country_codes():
        raise ConfigError(
            f"unknown country code {code!r}: use a 3-letter ISO 3166-1 code that "
            "CodeCarbon has grid data for, such as USA, FRA, DEU, CAN or IND"
        )
