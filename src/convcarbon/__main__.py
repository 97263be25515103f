import os
import sys

from .cli import EXIT_INTERRUPTED, main

code = main()
if code == EXIT_INTERRUPTED:
    # Our own clean-up has run (staging folder removed, lock released). Leave at
    # once rather than wait at interpreter exit on threads or child processes
    # that a library (TensorFlow, CodeCarbon's CPU detection) may have left
    # mid-way: an interrupted run must end.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
sys.exit(code)
