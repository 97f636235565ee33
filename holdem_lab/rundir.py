"""A run directory: the one place that knows its layout.

Everything a run leaves on disk lives under one directory, and only :class:`RunDir` spells where::

    <run>/checkpoints/checkpoint_iter{N:012d}{.npz,_regrets.npz,_metadata.json}
    <run>/checkpoints/checkpoint_iter{N:012d}.ipynb   executed notebook of the chunk that wrote N
    <run>/tensorboard/                                one event series across chunks
    <run>/analysis/                                   executed analysis notebook and its figures
    <run>/failed/                                     notebooks of failed or interrupted chunks
    <run>/.lab-tmp/                                   notebooks being executed (driver only)
    <run>/.lock, <run>/.lab.lock                      the chunk's and the driver's locks

The CLI, the chunk runner, the notebook driver, the analysis, the strategy explorer and
``load_blueprint`` all go through it; checkpoints themselves are read and written by
:mod:`holdem_lab.checkpoint`, which :class:`RunDir` calls.

A run is locked by ``fcntl.flock`` on a small file: such locks belong to the open file and
vanish when the process dies, however it dies, so a stale lock from a killed chunk never blocks
the next one. The file records the holder's pid and host for the error message.
"""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import json
import os
import socket
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from holdem_lab.checkpoint import (
    CheckpointInfo,
    LoadedCheckpoint,
    find_latest_complete,
    list_checkpoints,
    load_latest_complete,
    parse_checkpoint_name,
    read_metadata,
)
from holdem_lab.config import GameSpec
from holdem_lab.errors import BucketError, CheckpointError, ConfigError, RunLockedError

NOTEBOOK_SUFFIX = ".ipynb"
BUCKET_DIR_ENV = "HOLDEM_LAB_BUCKET_DIR"
# The summary holdem-build-buckets writes next to buckets.npz, with the npz's sha256.
BUCKET_SUMMARY_NAME = "buckets.json"
MAX_BUCKET_SUMMARY_BYTES = 1 << 20


@dataclass(frozen=True)
class CheckpointRecord:
    """A checkpoint whose metadata was read and checked: where it is and what it says."""

    info: CheckpointInfo
    metadata: dict[str, Any]

    @property
    def iteration(self) -> int:
        return self.info.iteration

    @property
    def chunk_index(self) -> int:
        return int(self.metadata.get("chunk_index", 0))

    @property
    def notebook(self) -> Path:
        """Where the executed chunk notebook that wrote this checkpoint is kept."""
        return notebook_beside(self.info)


def game_spec_of(metadata: dict[str, Any], *, run_root: str | os.PathLike[str] | None = None,
                 buckets: str | os.PathLike[str] | None = None) -> GameSpec:
    """The GameSpec a checkpoint's metadata says it was trained on, with a bucket file that
    exists: ``buckets`` when given, else the recorded path, else the file with the recorded
    sha256 next to the run (``run_root``) or in the bucket directory (:func:`bucket_directory`).
    A bucket file whose sha256 is not the one the run was trained with is refused."""
    try:
        spec = GameSpec.from_dict(metadata.get("game_spec"))
    except ConfigError as exc:
        raise CheckpointError(f"checkpoint metadata has no usable game_spec: {exc}") from None
    identity = metadata.get("game_identity")
    sha256 = identity.get("bucket_hash") if isinstance(identity, dict) else None
    if buckets is not None:
        if spec.game != "holdem":
            raise ConfigError("buckets", str(buckets),
                              f"only Hold'em uses a bucket file, and the run trains {spec.game}")
        found = bucket_file_sha256(buckets)
        if sha256 is not None and found is not None and found != sha256:
            raise BucketError(f"{buckets} holds buckets {found}; the run was trained with "
                              f"{sha256}")
        return dataclasses.replace(spec, buckets=os.path.abspath(buckets))
    if spec.buckets is None or Path(spec.buckets).exists() or not isinstance(sha256, str):
        return spec
    places = bucket_search_places(run_root)
    found_path = find_buckets(sha256, places)
    if found_path is None:
        raise BucketError(
            f"bucket file not found: {spec.buckets} (sha256 {sha256[:12]}…), nor a file with "
            f"that sha256 in {', '.join(str(place) for place in places)}; pass its directory "
            f"with --buckets or set {BUCKET_DIR_ENV}")
    return dataclasses.replace(spec, buckets=str(found_path))


def bucket_directory() -> Path:
    """Where bucket files are looked for by sha256 when a run's recorded path is gone:
    ``$HOLDEM_LAB_BUCKET_DIR``, else ``data/buckets`` of the checkout holding this package
    (where ``holdem-build-buckets`` writes in the README's commands)."""
    configured = os.environ.get(BUCKET_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path(__file__).resolve().parents[1] / "data" / "buckets"


def bucket_search_places(run_root: str | os.PathLike[str] | None) -> list[Path]:
    """The directories :func:`find_buckets` searches for a run: the run directory, the one
    holding it, and the bucket directory."""
    places = []
    if run_root is not None:
        root = Path(run_root).absolute()
        places += [root, root.parent]
    places.append(bucket_directory())
    return list(dict.fromkeys(places))


def bucket_file_sha256(path: str | os.PathLike[str]) -> str | None:
    """The npz sha256 recorded in the ``buckets.json`` of a bucket file given as its directory
    or its npz, or None when it cannot be read (loading the file then says why)."""
    candidate = Path(path)
    summary = (candidate / BUCKET_SUMMARY_NAME if candidate.is_dir()
               else candidate.with_suffix(".json"))
    try:
        if summary.stat().st_size > MAX_BUCKET_SUMMARY_BYTES:
            return None
        data = json.loads(summary.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = data.get("sha256") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def find_buckets(sha256: str, places: list[Path]) -> Path | None:
    """The directory of a bucket file with this sha256 in one of ``places`` or up to two
    levels below it, or None."""
    for place in places:
        for pattern in (BUCKET_SUMMARY_NAME, f"*/{BUCKET_SUMMARY_NAME}",
                        f"*/*/{BUCKET_SUMMARY_NAME}"):
            try:
                summaries = sorted(place.glob(pattern))
            except OSError:
                continue
            for summary in summaries:
                if bucket_file_sha256(summary.parent) == sha256:
                    return summary.parent
    return None


def summarize_problems(problems: list[str], limit: int = 300) -> str:
    """Skipped checkpoints in one line of reasonable length: the first problem (the newest
    checkpoint's, as :mod:`holdem_lab.checkpoint` lists them), shortened to ``limit``
    characters, and how many more there are."""
    if not problems:
        return ""
    first = " ".join(problems[0].split())
    if len(first) > limit:
        first = first[: limit - 1] + "…"
    rest = len(problems) - 1
    return first + (f" (and {rest} older checkpoint{'s' if rest != 1 else ''} with problems)"
                    if rest else "")


def notebook_beside(info: CheckpointInfo) -> Path:
    """The executed chunk notebook kept next to a checkpoint, with the checkpoint's stem."""
    return info.directory / (info.stem + NOTEBOOK_SUFFIX)


@dataclass(frozen=True)
class RunDir:
    """The layout of one run directory, and the questions asked of it."""

    root: Path

    def __init__(self, root: str | os.PathLike[str]) -> None:
        object.__setattr__(self, "root", Path(root))

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def tensorboard(self) -> Path:
        return self.root / "tensorboard"

    @property
    def analysis(self) -> Path:
        return self.root / "analysis"

    @property
    def failed(self) -> Path:
        return self.root / "failed"

    @property
    def temp(self) -> Path:
        """Where the driver executes notebooks before they are moved into place."""
        return self.root / ".lab-tmp"

    @property
    def lock_path(self) -> Path:
        return self.root / ".lock"

    @property
    def driver_lock_path(self) -> Path:
        return self.root / ".lab.lock"

    def lock(self) -> RunLock:
        """The lock a training chunk holds: one writer per run."""
        return RunLock(self.lock_path)

    def driver_lock(self) -> RunLock:
        """The lock a notebook driver holds, apart from its chunks' own."""
        return RunLock(self.driver_lock_path)

    def failed_notebook(self, name: str) -> Path:
        """A new, unused path in ``failed/`` for a notebook named ``name`` now."""
        path = self.failed / f"{name}_{time.strftime('%Y%m%d-%H%M%S')}{NOTEBOOK_SUFFIX}"
        candidate, number = path, 1
        while candidate.exists():
            candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
            number += 1
        return candidate

    def owns_checkpoint(self, path: Path) -> int | None:
        """The iteration of ``path`` when it is a checkpoint file of this run, else None."""
        iteration = parse_checkpoint_name(path.name)
        if iteration is None or path.parent.resolve() != self.checkpoints.resolve():
            return None
        return iteration

    def notebooks(self) -> list[Path]:
        """The executed chunk notebooks kept beside the checkpoints."""
        return sorted(self.checkpoints.glob(f"checkpoint_iter*{NOTEBOOK_SUFFIX}"))

    def check_room(self, checkpoint_bytes: int) -> None:
        """Raise OSError, naming the cause, unless a checkpoint of ``checkpoint_bytes`` can be
        written now: storage that cannot take one is better found before a chunk trains than
        after."""
        directory = self.checkpoints
        probe = directory / f".write-probe-{os.getpid()}"
        try:
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise OSError(exc.errno, f"cannot write checkpoints in {directory}: "
                                     f"{exc.strerror}") from None
        usage = os.statvfs(directory)
        free = usage.f_bavail * usage.f_frsize
        if free < checkpoint_bytes:
            raise OSError(errno.ENOSPC, f"{os.strerror(errno.ENOSPC)} for a checkpoint in "
                                        f"{directory}: {free / 2**20:,.1f} MiB free, a "
                                        f"checkpoint of this run needs "
                                        f"{checkpoint_bytes / 2**20:,.1f} MiB")

    # Checkpoints -------------------------------------------------------------------------

    def has_checkpoint_files(self) -> bool:
        """Whether any checkpoint file is present, complete or not."""
        return bool(list_checkpoints(self.checkpoints))

    def latest_complete(self) -> CheckpointInfo | None:
        """The newest complete checkpoint, or None."""
        info, _ = find_latest_complete(self.checkpoints)
        return info

    def load_latest(self, *, include_policy: bool = True,
                    report: Callable[[str], None] | None = None
                    ) -> tuple[LoadedCheckpoint | None, list[str]]:
        """The newest complete checkpoint, loaded and verified, and one line per newer one
        that was skipped (each also passed to ``report`` as it is found)."""
        return load_latest_complete(self.checkpoints, include_policy=include_policy,
                                    report=report)

    def records(self) -> tuple[list[CheckpointRecord], list[str]]:
        """Every checkpoint whose metadata reads and checks, oldest first, and one problem line
        per checkpoint skipped. Payloads are not read (see :mod:`holdem_lab.checkpoint`)."""
        records: list[CheckpointRecord] = []
        problems: list[str] = []
        for info in list_checkpoints(self.checkpoints):
            try:
                records.append(CheckpointRecord(info, read_metadata(info)))
            except CheckpointError as exc:
                problems.append(str(exc))
        return records, problems

    def with_buckets_found(self, spec: GameSpec) -> GameSpec:
        """``spec`` itself, or, when its bucket file is gone and the run has a complete
        checkpoint, ``spec`` with the file of the checkpoint's bucket sha256 found next to the run
        or in the bucket directory (see :func:`game_spec_of`): a resume then opens from any
        working directory. The game is checked against the checkpoint's as ever."""
        if spec.buckets is None or Path(spec.buckets).exists():
            return spec
        info = self.latest_complete()
        if info is None:
            return spec
        try:
            identity = read_metadata(info).get("game_identity")
        except CheckpointError:
            return spec
        sha256 = identity.get("bucket_hash") if isinstance(identity, dict) else None
        found = find_buckets(sha256, bucket_search_places(self.root)) if sha256 else None
        return spec if found is None else dataclasses.replace(spec, buckets=str(found))

    def lock_holder(self) -> str | None:
        """Who holds the training lock ("pid N on HOST"), or None (see :meth:`RunLock.holder`)."""
        return self.lock().holder()

    def driver_lock_holder(self) -> str | None:
        """Who holds the notebook driver's lock, or None."""
        return self.driver_lock().holder()

    @staticmethod
    def is_run(path: str | os.PathLike[str]) -> bool:
        """Whether ``path`` holds a run: checkpoint metadata in its checkpoint directory."""
        return any(RunDir(path).checkpoints.glob("checkpoint_iter*_metadata.json"))


class RunLock:
    """Context manager holding a lock file of a run directory (non-blocking)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        directory = self.path.parent
        if directory.exists() and not directory.is_dir():
            raise ConfigError("run directory", str(directory), "is a file, not a directory")
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise ConfigError("run directory", str(directory),
                              "cannot be created: a part of its path is a file") from None
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a symbolic link
                raise RunLockedError(f"the run lock {self.path} is a link; it must be a "
                                     "regular file") from None
            # A read-only or full file system is an I/O problem, not a lock held by someone.
            raise OSError(exc.errno, f"cannot create the run lock {self.path}: "
                                     f"{exc.strerror}") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise RunLockedError(f"the run lock {self.path} is not a regular file")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            try:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
            finally:
                os.close(fd)
            if isinstance(exc, BlockingIOError):
                raise RunLockedError(
                    f"{self.path.parent} is being trained by another process "
                    f"({holder or 'unknown'}); wait for it to finish or stop it first") from None
            if exc.errno in (errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOLCK):
                raise OSError(exc.errno, f"cannot lock {self.path}: the file system does not "
                              f"support flock ({exc.strerror}); on Lustre mount it with "
                              "-o flock, on NFS enable its lock service, or keep the run "
                              "directory on a local or lock-capable file system") from None
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}\n".encode(), 0)
        self._fd = fd
        return self

    def holder(self) -> str | None:
        """Who holds this lock ("pid N on HOST"), or None when nobody does. Asks without
        blocking and never takes a lock someone holds (a free one is taken shared and released
        at once); a missing lock file is a free lock."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
                return holder or "an unknown process"
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
