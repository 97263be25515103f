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


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


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


@dataclass(frozen=True)
class AtlasSettings:
    """How the crossover atlas (book/atlas.md) times one profile's grid.

    The grid: `channel_levels` pairs (channels, picture side) from a network's first layers to its last ones,
    for each kernel, at batch 1 and at `training_batch`. A point first takes `first_samples` timed samples per
    layer and pass (after warm-up calls, discarded), each a block of calls lasting at least `min_block_s`; while
    its interval's spread (highest / lowest of the middle half) stays above `max_spread`, it takes more, up to
    `max_samples` or until its samples have used `point_budget_s`. A block of points measured while the
    calibration had drifted more than the bound is measured again, at most `calibration_retries` times.
    """

    channel_levels: tuple[tuple[int, int], ...]
    kernels: tuple[int, ...]
    training_batch: int
    first_samples: int
    max_samples: int
    max_spread: float
    point_budget_s: float
    min_block_s: float
    calibration_retries: int
    square_sizes: tuple[int, ...]  # the ceilings' matrix products, n x n by n x n (with a convolution-shaped one)

    def __post_init__(self) -> None:
        _check(
            1 <= self.first_samples <= self.max_samples,
            f"the atlas needs 1 <= first_samples <= max_samples, not {self.first_samples} and {self.max_samples}",
        )
        _check(self.max_spread >= 1.0, f"max_spread is highest / lowest, so at least 1, not {self.max_spread}")
        _check(
            self.point_budget_s >= 0 and self.min_block_s >= 0 and self.calibration_retries >= 0,
            "the atlas's budget, block length and retries cannot be negative",
        )

    def to_dict(self) -> dict:
        return {
            **dataclasses.asdict(self),
            "channel_levels": [list(level) for level in self.channel_levels],
            "kernels": list(self.kernels),
            "square_sizes": list(self.square_sizes),
        }


@dataclass(frozen=True)
class Profile:
    """One named profile: what a training run trains (the fields of ExperimentConfig it sets) and how the
    atlas times its grid. Each profile is one entry of PROFILES, and nowhere else."""

    epochs: int
    batch_size: int
    train_images: int
    test_images: int
    repeats: int
    idle_duration_s: float
    measure_power_secs: float
    atlas: AtlasSettings

    def training_settings(self) -> dict:
        """The ExperimentConfig fields this profile sets."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self) if field.name != "atlas"}


PROFILES: dict[str, Profile] = {
    # The original tutorial's protocol (all data, 25 epochs, batch 250), trained
    # three times per model: the fewest repeats that give a median and a spread.
    # The full atlas grid: 8 to 512 channels, kernels 3, 5 and 7. Called `seed` until issue 21 (PROFILE_ALIASES).
    "full": Profile(
        epochs=25,
        batch_size=250,
        train_images=MNIST_TRAIN_IMAGES,
        test_images=MNIST_TEST_IMAGES,
        repeats=3,
        idle_duration_s=60.0,
        measure_power_secs=5.0,
        atlas=AtlasSettings(
            channel_levels=((8, 56), (16, 56), (32, 28), (64, 28), (128, 14), (256, 14), (512, 7)),
            kernels=(3, 5, 7),
            training_batch=32,
            first_samples=5,
            max_samples=15,
            max_spread=1.10,
            point_budget_s=3.0,
            min_block_s=0.05,
            calibration_retries=2,
            square_sizes=(256, 1024, 2048),
        ),
    ),
    # All data, few epochs: minutes on a laptop. A third of the atlas grid's channel levels.
    "quick": Profile(
        epochs=3,
        batch_size=250,
        train_images=MNIST_TRAIN_IMAGES,
        test_images=MNIST_TEST_IMAGES,
        repeats=2,
        idle_duration_s=20.0,
        measure_power_secs=5.0,
        atlas=AtlasSettings(
            channel_levels=((8, 56), (64, 28), (256, 14)),
            kernels=(3, 5, 7),
            training_batch=32,
            first_samples=3,
            max_samples=9,
            max_spread=1.15,
            point_budget_s=1.5,
            min_block_s=0.03,
            calibration_retries=1,
            square_sizes=(256, 1024, 2048),
        ),
    ),
    # A small subset, two epochs (a warm-up and a steady one), two repeats:
    # seconds, for tests and CI, yet every part of the method runs (the atlas: two small shapes, one kernel).
    "smoke": Profile(
        epochs=2,
        batch_size=250,
        train_images=2_000,
        test_images=1_000,
        repeats=2,
        idle_duration_s=3.0,
        measure_power_secs=1.0,
        atlas=AtlasSettings(
            channel_levels=((8, 28), (64, 14)),
            kernels=(3,),
            training_batch=8,
            first_samples=3,
            max_samples=6,
            max_spread=1.25,
            point_budget_s=0.3,
            min_block_s=0.01,
            calibration_retries=1,
            square_sizes=(256, 1024),
        ),
    ),
}
DEFAULT_PROFILE = "full"
PROFILE_VARIABLE = "CONVCARBON_PROFILE"  # names the profile where no --profile does
# Old names of profiles, each with the profile it now names. Records keep the name they were made with (the
# committed `seed-*` and `atlas-seed-*` records, students' hand-ins), so a name is compared through
# `canonical_profile`, and a record's profile may be any of RECORD_PROFILES.
PROFILE_ALIASES: dict[str, str] = {"seed": "full"}
RECORD_PROFILES: tuple[str, ...] = (*PROFILES, *PROFILE_ALIASES)


def canonical_profile(name: str) -> str:
    """The profile a name stands for: an old name (PROFILE_ALIASES) gives the profile's name now, any other
    name itself."""
    return PROFILE_ALIASES.get(name, name)


def same_profile(first: str, second: str) -> bool:
    """Whether two profile names (of records, or asked for) name the same profile, old names included."""
    return canonical_profile(first) == canonical_profile(second)


def resolve_config(
    profile: str | None = None,
    country: str | None = None,
    pue: float | None = None,
    repeats: int | None = None,
    idle_duration_s: float | None = None,
    environ: Mapping[str, str] = os.environ,
) -> ExperimentConfig:
    """Build the configuration from flags, then environment, then defaults. An old profile name
    (PROFILE_ALIASES) gives the profile it was renamed to: `seed` runs, and stores, `full`."""
    profile_name = canonical_profile(profile or environ.get(PROFILE_VARIABLE) or DEFAULT_PROFILE)
    if profile_name not in PROFILES:
        raise ConfigError(f"unknown profile {profile_name!r}; choose one of: {', '.join(PROFILES)}")
    settings = PROFILES[profile_name].training_settings()
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


def _check_country(code: str) -> None:
    """Accept only ISO 3166-1 alpha-3 codes for which CodeCarbon has grid data."""
    from .grid import known_country_codes

    if code not in known_country_codes():
        raise ConfigError(
            f"unknown country code {code!r}: use a 3-letter ISO 3166-1 code that "
            "CodeCarbon has grid data for, such as USA, FRA, DEU, CAN or IND"
        )
