"""Loaded by a child process whose PYTHONPATH starts here: makes CodeCarbon fail on purpose.

CONVCARBON_TEST_TRACKER_FAULT=start or =stop makes OfflineEmissionsTracker raise
there, as it would when a counter cannot be read. Used only by the tests.
"""

import os

_FAULT = os.environ.get("CONVCARBON_TEST_TRACKER_FAULT")

if _FAULT in ("start", "stop"):
    import codecarbon

    def _fail(self, *arguments, **keywords):
        raise PermissionError(f"injected fault: cannot read the energy counter at {_FAULT}")

    setattr(codecarbon.OfflineEmissionsTracker, _FAULT, _fail)
