import os
import sys

from .cli import EXIT_INTERRUPTED, main

code = main()
if code == EXIT_INTERRUPTED:
    # Interrupted mid-training, TensorFlow's objects are finalized with the interpreter, and some of their
    # destructors then fail ("Exception ignored in ... TypeError", seen in CI), a traceback after the one line
    # that says the run was interrupted. The staging folder and the store's lock are already released as the
    # interrupt unwound (records/store.py), so nothing is left to finalize that the user needs.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
sys.exit(code)
