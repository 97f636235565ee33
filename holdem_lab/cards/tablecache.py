"""Lookup tables that are computed from code alone, kept on disk between processes.

The hand evaluator and the isomorphism index build their tables at import, and every chunk of
a training run is a fresh process, so that cost would come back with each one.
:func:`cached_tables` keeps the built arrays in an ``.npz`` file named after the sha256 of the
source files they are computed from: editing any of them gives a new name, so a stale file is
never read, and nothing needs invalidating by hand.

The file lives in the ``__pycache__`` folder beside the module, as Python's and numba's compiled
files do, or in ``$XDG_CACHE_HOME/holdem_lab`` (``~/.cache/holdem_lab``) when that folder cannot
be written; with neither, the tables are built every time. It is read with
:func:`holdem_lab.checkpoint.read_npz` (no pickles, every CRC-32 checked) and must hold exactly
the arrays the builder returns, which must be finite; anything else (a damaged or half-written
file, a foreign one) is ignored and replaced. Files are written with
:func:`holdem_lab.checkpoint.atomic_file`, so concurrent processes never see a partial file.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from holdem_lab.checkpoint import atomic_file, read_npz
from holdem_lab.errors import CheckpointError

Tables = dict[str, npt.NDArray[Any]]

CACHE_FORMAT = 2
"""Part of every file name: bump it if the file layout itself changes."""

NAMES_ARRAY = "__names__"
"""The member listing the tables' names in order; a file without it is not a table file."""


def default_directories(source: Path) -> list[Path]:
    """Where the tables built from ``source`` may be kept, in order of preference."""
    folders = [source.parent / "__pycache__"]
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except (RuntimeError, KeyError):  # no HOME and no passwd entry: skip that folder
            base = None
    if base:
        folders.append(Path(base) / "holdem_lab")
    return folders


def cached_tables(
    name: str,
    sources: Sequence[str | os.PathLike[str]],
    build: Callable[[], Mapping[str, npt.NDArray[Any]]],
    directories: Sequence[Path] | None = None,
) -> Tables:
    """The tables ``build()`` returns, read from the cache when the ``sources`` are unchanged.

    ``sources`` are the files whose code determines the tables (the builder's module and any
    module it takes constants from). ``directories`` defaults to :func:`default_directories`
    of the first source.
    """
    paths = [Path(s) for s in sources]
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    filename = f"{name}-tables-v{CACHE_FORMAT}-{digest.hexdigest()[:20]}.npz"
    candidates = list(directories) if directories is not None else default_directories(paths[0])
    for directory in candidates:
        tables = _read(directory / filename)
        if tables is not None:
            return tables
    tables = dict(build())
    for directory in candidates:
        if _write(directory / filename, tables):
            break
    return tables


def _read(path: Path) -> Tables | None:
    """The arrays stored at ``path``, or None if it is missing or not a complete table file."""
    try:
        tables = read_npz(path)  # structure and CRC-32 checked, never a pickle
    except CheckpointError:
        return None
    names = tables.pop(NAMES_ARRAY, None)
    if names is None or names.ndim != 1 or names.dtype != np.uint8:
        return None
    try:
        listed = json.loads(names.tobytes().decode("utf-8"))
    except (ValueError, RecursionError):  # not UTF-8 (UnicodeDecodeError) or not JSON
        return None
    if (
        not isinstance(listed, list)
        or not all(isinstance(n, str) for n in listed)
        or len(set(listed)) != len(listed)
        or sorted(listed) != sorted(tables)
    ):
        return None
    return {key: tables[key] for key in listed}


def names_array(names: Sequence[str]) -> npt.NDArray[np.uint8]:
    """The :data:`NAMES_ARRAY` member recording ``names``, in order: their JSON list as UTF-8
    bytes (a string array is not a plain numeric array, so the safe reader would refuse it)."""
    return np.frombuffer(json.dumps(list(names)).encode("utf-8"), dtype=np.uint8)


def _write(path: Path, tables: Tables) -> bool:
    """Store ``tables`` at ``path`` atomically; False if the folder cannot be written."""
    payload: dict[str, Any] = {NAMES_ARRAY: names_array(list(tables)), **tables}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Not durable: a file a power loss damages is refused by _read and rebuilt.
        with atomic_file(path, durable=False) as target:
            os.fchmod(target.fd, 0o644)  # readable by every user, whatever the umask
            with os.fdopen(target.fd, "wb", closefd=False) as stream:
                np.savez(stream, **payload)
    except OSError:
        return False
    return True
