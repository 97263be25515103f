"""Loaded by a child process whose PYTHONPATH starts here: makes CodeCarbon fail on purpose.

CONVCARBON_TEST_TRACKER_FAULT=start or =stop makes OfflineEmissionsTracker raise there, as it would when a
counter cannot be read. =mixed does both in one run: the Conv2D model's trackers (training and predictions)
fail at start, every other tracker at stop. Used only by the tests.
"""

import os

_FAULT = os.environ.get("CONVCARBON_TEST_TRACKER_FAULT")
MIXED_AT_START = "convcarbon-conv2d"  # with =mixed, trackers whose project name starts so fail at start


def _fault_of(tracker) -> str:
    if _FAULT != "mixed":
        return _FAULT
    return "start" if str(getattr(tracker, "_project_name", "")).startswith(MIXED_AT_START) else "stop"


def _failing(method: str):
    original = getattr(codecarbon.OfflineEmissionsTracker, method)

    def maybe_fail(self, *arguments, **keywords):
        if _fault_of(self) == method:
            raise PermissionError(f"injected fault: cannot read the energy counter at {method}")
        return original(self, *arguments, **keywords)

    return maybe_fail


if _FAULT in ("start", "stop", "mixed"):
    import codecarbon

    for _method in ("start", "stop"):
        setattr(codecarbon.OfflineEmissionsTracker, _method, _failing(_method))
