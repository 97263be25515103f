import dataclasses

import pytest

from convcarbon.config import PROFILES, ExperimentConfig, canonical_profile, resolve_config, same_profile
from convcarbon.errors import ConfigError


def test_full_profile_is_the_original_protocol():
    config = resolve_config("full", environ={})
    assert (config.epochs, config.batch_size, config.train_images, config.test_images) == (25, 250, 60_000, 10_000)
    assert config.validation_split == 0.2


def test_smoke_is_small_and_quick_uses_all_data():
    smoke, quick = resolve_config("smoke", environ={}), resolve_config("quick", environ={})
    assert smoke.epochs == 2 and smoke.repeats == 2 and smoke.train_images < 5_000
    assert quick.train_images == 60_000 and 1 < quick.epochs < 25


def test_default_profile_is_full_and_environment_chooses_otherwise():
    assert resolve_config(environ={}).profile == "full"
    assert resolve_config(environ={"CONVCARBON_PROFILE": "quick"}).profile == "quick"
    assert resolve_config("smoke", environ={"CONVCARBON_PROFILE": "quick"}).profile == "smoke"


def test_country_comes_from_flag_then_environment_then_default_and_says_which():
    assert resolve_config("smoke", environ={}).country_source == "default"
    from_env = resolve_config("smoke", environ={"CONVCARBON_COUNTRY": "fra"})
    assert (from_env.country_iso_code, from_env.country_source) == ("FRA", "CONVCARBON_COUNTRY")
    from_flag = resolve_config("smoke", country="DEU", environ={"CONVCARBON_COUNTRY": "FRA"})
    assert (from_flag.country_iso_code, from_flag.country_source) == ("DEU", "--country")


@pytest.mark.parametrize(
    "arguments, message",
    [
        (dict(profile="huge"), "unknown profile 'huge'"),
        (dict(profile="smoke", country="XX"), "unknown country code 'XX'"),
        (dict(profile="smoke", country="QUE"), "unknown country code 'QUE'"),
        (dict(profile="smoke", pue=0.5), "PUE must be 1.0 or more"),
        (dict(profile="smoke", pue=3.5), "PUE must be at most 3"),
        (dict(profile="smoke", repeats=0), "repeats must be between 1 and 50"),
        (dict(profile="smoke", idle_duration_s=-1.0), "idle duration must be between 0 and 3600 s"),
    ],
)
def test_bad_values_raise_config_errors(arguments, message):
    with pytest.raises(ConfigError, match=message):
        resolve_config(environ={}, **arguments)


def test_config_is_frozen_and_serialisable():
    config = resolve_config("smoke", environ={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.epochs = 3
    assert ExperimentConfig(**config.to_dict()) == config


@pytest.mark.parametrize(
    "field, value",
    [("epochs", 0), ("batch_size", 0), ("train_images", 70_000), ("validation_split", 1.0), ("measure_power_secs", 0)],
)
def test_out_of_range_fields_are_refused(field, value):
    settings = dict(PROFILES["smoke"].training_settings(), profile="smoke", **{field: value})
    with pytest.raises(ConfigError):
        ExperimentConfig(**settings)


def test_repeats_and_idle_time_come_from_the_profile_unless_given():
    full = resolve_config("full", environ={})
    assert (full.repeats, full.idle_duration_s) == (3, 60.0)
    given = resolve_config("full", repeats=5, idle_duration_s=0.0, environ={})
    assert (given.repeats, given.idle_duration_s) == (5, 0.0)


def test_the_old_name_seed_runs_the_full_profile_from_a_flag_or_the_environment():
    """`seed` was the full profile's name until issue 21: asked for by either route, it gives the same
    configuration as `full`, stored under the new name; the names of other profiles are their own."""
    full = resolve_config("full", environ={})
    assert resolve_config("seed", environ={}) == full
    assert resolve_config(environ={"CONVCARBON_PROFILE": "seed"}) == full
    assert "seed" not in PROFILES and canonical_profile("seed") == "full" and canonical_profile("quick") == "quick"
    assert same_profile("seed", "full") and same_profile("full", "full") and not same_profile("seed", "quick")
