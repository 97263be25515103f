"""A quiet terminal: the frameworks' own log lines are dropped, the project's lines pass.

TensorFlow 2.21 writes its C++ log lines (`I0000 ... oneDNN custom operations are on`,
`E0000 ... failed call to cuInit`) through absl before absl's logging is initialised, so
TF_CPP_MIN_LOG_LEVEL does not reach them. They read like errors and push the progress
lines away. So `run` and `book` send file descriptor 2 (what every library, and every child
process such as the book's notebook kernels, writes to stderr) through a filter that drops
lines in absl's log format and passes everything else, in order. `--verbose` or
CONVCARBON_VERBOSE=1 leaves stderr alone.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

VERBOSE_VARIABLE = "CONVCARBON_VERBOSE"
# Read by TensorFlow and absl once initialised: warnings and errors only (2), or everything (0).
QUIET_FRAMEWORK_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "2", "ABSL_MIN_LOG_LEVEL": "2", "GLOG_minloglevel": "2"}
# absl / glog lines (I0000 00:00:1795975058.028017 10011 port.cc:153]), TensorFlow's start-up notes,
# and each notebook kernel's warning.
FRAMEWORK_LOG_LINE = re.compile(
    rb"^([IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w.+-]+:\d+\] "
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags"
    rb"|\[IPKernelApp\] WARNING \| Kernel is running over TCP without encryption)"
)
WAIT_FOR_LAST_LINES_S = 5.0


def verbose_requested(flag: bool) -> bool:
    return flag or os.environ.get(VERBOSE_VARIABLE, "") not in ("", "0")


@contextmanager
def framework_logs_dropped() -> Iterator[None]:
    """While inside, stderr (fd 2, inherited by child processes) drops the framework's log lines.

    Set before TensorFlow loads: the environment reaches it and the notebook kernels."""
    os.environ.update({name: value for name, value in QUIET_FRAMEWORK_ENVIRONMENT.items() if name not in os.environ})
    sys.stderr.flush()
    original_fd = os.dup(2)
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 2)
    os.close(write_fd)
    forwarder = threading.Thread(target=_forward, args=(read_fd, original_fd), daemon=True)
    forwarder.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(original_fd, 2)  # closes the pipe's last write end held here: the forwarder reads to its end
        forwarder.join(WAIT_FOR_LAST_LINES_S)  # a child still holding the pipe must not hang the exit
        os.close(original_fd)


def _forward(read_fd: int, original_fd: int) -> None:
    with os.fdopen(read_fd, "rb") as lines:
        for line in lines:
            if not FRAMEWORK_LOG_LINE.match(line):
                try:
                    os.write(original_fd, line)
                except OSError:  # the terminal's descriptor closed after a child outlived the command
                    return
