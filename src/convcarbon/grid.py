"""Carbon intensity of national grids, from the data that CodeCarbon ships.

No network: these are the tables CodeCarbon's offline tracker itself uses.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _energy_mix() -> dict:
    from codecarbon.input import DataSource

    return DataSource().get_global_energy_mix_data()


def known_country_codes() -> frozenset[str]:
    return frozenset(_energy_mix())


def country_name(country_iso_code: str) -> str:
    return _energy_mix()[country_iso_code]["country_name"]


def carbon_intensity_g_per_kwh(country_iso_code: str) -> float:
    return float(_energy_mix()[country_iso_code]["carbon_intensity"])


def grid_data_year(country_iso_code: str) -> int:
    return int(_energy_mix()[country_iso_code]["year"])
