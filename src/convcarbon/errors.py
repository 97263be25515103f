"""Errors that the command line turns into one clear line and a non-zero exit."""


class ConvCarbonError(Exception):
    """Base class: a problem the user can fix, reported without a traceback."""


class ConfigError(ConvCarbonError, ValueError):
    """A bad profile, country, PUE or other configuration value."""


class DatasetError(ConvCarbonError, ValueError):
    """The MNIST file is missing, unreadable or not what it should be."""


class StoreError(ConvCarbonError):
    """The results directory cannot be used."""
