"""Files from other machines and people, read as untrusted input: the bytes of a regular file of limited size,
never through a link (`read_untrusted_bytes`), and one JSON object read so, as strict JSON (no NaN, no Infinity,
no number too large to be finite).

Used for the training records (`store`) and the atlas records (`atlas_store`), and so by every chapter; for the
files a page offers for download (`site.build`) and those `collect` copies.
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Callable, Iterable
from pathlib import Path


def read_untrusted_json(path: Path, max_bytes: int) -> tuple[dict | None, str | None]:
    """(object, None) for a file that holds one JSON object, or (None, what is wrong with it, naming the file).

    Read only through `read_untrusted_bytes`, as strict JSON (`strict_json`).
    Used by `store` (training records) and `atlas_store` (atlas records)."""
    content, problem = read_untrusted_bytes(path, max_bytes)
    if problem:
        return None, problem
    return parse_untrusted_json(content, Path(path).name)


def parse_untrusted_json(content: bytes, name: str) -> tuple[dict | None, str | None]:
    """(object, None) for bytes (read by `read_untrusted_bytes`) that hold one JSON object, as strict JSON, or
    (None, what is wrong with them, naming the file `name`). Used by `read_untrusted_json` and by `collect`,
    which copies the very bytes it validated."""
    try:
        value = strict_json(content.decode("utf-8"))
    except NotFiniteNumber as error:
        return None, f"{name} {error}"
    except (ValueError, RecursionError) as error:  # RecursionError: JSON nested thousands deep
        return None, f"{name} is not readable JSON ({str(error)[:120]})"
    if not isinstance(value, dict):
        return None, f"{name} does not hold an object"
    return value, None


class NotFiniteNumber(ValueError):
    """A number JSON does not allow (NaN, Infinity) or one too large for a float: its message completes
    "<file name> ..."."""


def strict_json(text: str):
    """JSON as the standard defines it: Python's reader accepts NaN, Infinity and -Infinity, and reads 1e400
    as infinity; a bound check cannot catch them (NaN < 0 is false), so they are refused here."""

    def refuse_constant(name: str):
        raise NotFiniteNumber(f"holds {name}, which is not a number (JSON allows finite numbers only)")

    def finite_float(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            raise NotFiniteNumber(f"holds the number {text[:40]}, too large to be finite")
        return value

    return json.loads(text, parse_constant=refuse_constant, parse_float=finite_float)


class _NotARecordFile(Exception):
    """A file that is not read at all: its message completes "<file name> ..."."""


def read_untrusted_bytes(path: Path, max_bytes: int) -> tuple[bytes | None, str | None]:
    """(content, None) for a regular file of at most `max_bytes`, or (None, why it is not read, naming the file).

    Never through a link: the last part of the path is refused when it is a link (and opened with O_NOFOLLOW
    where the system has it). Files come from other machines and people: a FIFO would block the reader and a
    huge file would fill its memory. The file is opened without blocking and checked on the open handle, so
    nothing can swap it in between."""
    path = Path(path)
    try:
        if path.is_symlink():
            return None, f"{path.name} is a symbolic link, which is refused"
        return _read_small_file(path, max_bytes), None
    except FileNotFoundError:
        return None, f"no {path.name}"
    except _NotARecordFile as error:
        return None, f"{path.name} {error}"
    except OSError as error:
        return None, f"{path.name} cannot be read ({error.strerror or error})"


def _read_small_file(path: Path, max_bytes: int) -> bytes:
    """The content of a regular file of at most `max_bytes`."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(path, flags)
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise _NotARecordFile("is not a regular file")
        content = handle.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise _NotARecordFile(f"is larger than {max_bytes / 2**20:g} MB, far more than any record")
    return content


def scan_folders(
    folders: Iterable[Path], read: Callable[[Path], tuple[dict | None, str | None]]
) -> tuple[list[dict], list[tuple[Path, str]]]:
    """Every record that `read` accepts among `folders`, oldest first, each with its folder as `path`, and
    every folder it refuses, with the reason. Used by `store.RecordFolders.scan`, for every kind of record."""
    found, skipped = [], []
    for folder in folders:
        record, problem = read(folder)
        if problem:
            skipped.append((folder, problem))
            continue
        record["path"] = str(folder)
        found.append(record)
    return sorted(found, key=lambda record: record["created_utc"]), skipped
