"""atomic_write / atomic_file: a file appears whole under its name or not at all, and a failed
write leaves neither a temp file nor a partial file behind (holdem_lab.checkpoint.fileio)."""

from __future__ import annotations

import errno
import itertools
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from holdem_lab.checkpoint import AtomicWriteError, atomic_file, atomic_write, move_durably
from holdem_lab.checkpoint.fileio import write_all

OLD = b"old contents\n"


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_writes_bytes_and_text_and_replaces_a_file(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    assert atomic_write(path, b"\x00\x01binary") == 8
    assert path.read_bytes() == b"\x00\x01binary"
    assert atomic_write(path, "caf\u00e9 \u2660\n") == len("caf\u00e9 \u2660\n".encode())
    assert path.read_text(encoding="utf-8") == "caf\u00e9 \u2660\n"
    assert atomic_write(path, memoryview(b"view"), durable=False) == 4
    assert path.read_bytes() == b"view"
    assert _names(tmp_path) == ["result.json"]


def test_the_final_name_appears_only_once_the_file_is_whole(tmp_path: Path) -> None:
    path = tmp_path / "table.npz"
    with atomic_file(path) as target:
        write_all(target.fd, b"first half ")
        assert not path.exists()
        (temp,) = tmp_path.iterdir()
        assert temp == target.temp and temp.name.startswith(".table.npz.tmp-")
        write_all(target.fd, b"second half")
    assert path.read_bytes() == b"first half second half"
    assert target.size == len(b"first half second half") and target.renamed
    assert _names(tmp_path) == ["table.npz"]


@pytest.mark.parametrize("error", [ValueError("broken payload"), KeyboardInterrupt()])
def test_a_write_that_raises_midway_leaves_the_old_file_and_no_temp(
    tmp_path: Path, error: BaseException
) -> None:
    path = tmp_path / "out.bin"
    path.write_bytes(OLD)
    with pytest.raises(type(error)) as caught, atomic_file(path) as target:
        write_all(target.fd, b"x" * 100_000)
        raise error
    assert caught.value is error  # not wrapped: only failed os calls become AtomicWriteError
    assert not target.renamed
    assert path.read_bytes() == OLD
    assert _names(tmp_path) == ["out.bin"]


def _fail_call(monkeypatch: pytest.MonkeyPatch, name: str, fail_at: int | None) -> list[int]:
    """Wrap ``os.<name>``: count its calls, raise EACCES on call number ``fail_at``."""
    real = getattr(os, name)
    counter = itertools.count(1)
    seen: list[int] = []

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        call = next(counter)
        seen.append(call)
        if call == fail_at:
            raise OSError(errno.EACCES, os.strerror(errno.EACCES))
        return real(*args, **kwargs)

    monkeypatch.setattr(os, name, wrapper)
    return seen


@pytest.mark.parametrize("name", ["open", "write", "fsync", "close", "replace"])
def test_a_failing_system_call_leaves_no_temp_and_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """Each call of each kind fails in turn (an unwritable directory, a full disk, a failed
    rename or fsync): the error is an OSError naming the step and the file, no temp file is
    left, and the final name holds the old file or, only once renamed, the whole new one."""
    new = b"new contents " * 10_000
    with pytest.MonkeyPatch.context() as patch:
        seen = _fail_call(patch, name, None)
        atomic_write(tmp_path / "count.bin", new)
    total = len(seen)
    assert total >= (2 if name in ("open", "fsync") else 1)  # the directory's too
    for fail_at in range(1, total + 1):
        directory = tmp_path / f"{name}-{fail_at}"
        directory.mkdir()
        path = directory / "out.bin"
        path.write_bytes(OLD)
        with pytest.MonkeyPatch.context() as patch:
            _fail_call(patch, name, fail_at)
            with pytest.raises(AtomicWriteError) as caught:
                atomic_write(path, new)
        error = caught.value
        assert isinstance(error, OSError) and error.errno == errno.EACCES
        assert isinstance(error.__cause__, OSError)
        assert "Permission denied" in str(error) and str(directory) in str(error)
        assert _names(directory) == ["out.bin"], (name, fail_at)
        if error.step == "fsync directory":  # after the rename: the new file is whole
            assert path.read_bytes() == new
        else:
            assert path.read_bytes() == OLD, (name, fail_at, error.step)


def test_durable_fsyncs_the_file_and_the_directory_and_otherwise_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _fail_call(monkeypatch, "fsync", None)
    atomic_write(tmp_path / "a", b"durable")
    assert len(seen) == 2
    atomic_write(tmp_path / "b", b"cache", durable=False)
    assert len(seen) == 2
    assert (tmp_path / "b").read_bytes() == b"cache"


def test_an_existing_temp_name_is_never_reused(tmp_path: Path) -> None:
    """Two writers of the same file each get their own temp file (O_EXCL, random token)."""
    path = tmp_path / "shared.json"
    with atomic_file(path) as first, atomic_file(path) as second:
        assert first.temp != second.temp
        write_all(first.fd, b"first")
        write_all(second.fd, b"second")
    assert path.read_bytes() == b"first"  # the outer block is renamed last
    assert _names(tmp_path) == ["shared.json"]


def test_a_concurrent_reader_never_sees_a_partial_file(tmp_path: Path) -> None:
    path = tmp_path / "result.bin"
    size = 1 << 20
    versions = [bytes([65 + n]) * size for n in range(4)]
    atomic_write(path, versions[0], durable=False)
    stop = threading.Event()
    bad: list[str] = []
    reads = 0

    def reader() -> None:
        nonlocal reads
        while not stop.is_set():
            data = path.read_bytes()
            reads += 1
            if data not in versions:
                bad.append(f"{len(data)} bytes starting {data[:1]!r}")
                return

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for round_ in range(200):
            atomic_write(path, versions[round_ % len(versions)], durable=False)
    finally:
        stop.set()
        thread.join()
    assert bad == []
    assert reads > 0
    assert _names(tmp_path) == ["result.bin"]


def test_move_durably_renames_and_fsyncs_both_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "temp").mkdir()
    (tmp_path / "kept").mkdir()
    source, target = tmp_path / "temp" / "run.ipynb", tmp_path / "kept" / "chunk.ipynb"
    source.write_bytes(b"notebook")
    seen = _fail_call(monkeypatch, "fsync", None)
    move_durably(source, target)
    assert target.read_bytes() == b"notebook" and not source.exists()
    assert len(seen) == 2
    monkeypatch.undo()
    target.rename(source)
    with pytest.MonkeyPatch.context() as patch:
        _fail_call(patch, "replace", 1)
        with pytest.raises(AtomicWriteError, match="Permission denied") as caught:
            move_durably(source, target)
    assert caught.value.step.startswith("rename") and source.read_bytes() == b"notebook"
    assert not target.exists()
