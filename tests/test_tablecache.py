"""The on-disk cache of code-derived lookup tables (holdem_lab.cards.tablecache)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from holdem_lab.cards import evaluator, isomorphism
from holdem_lab.cards.tablecache import cached_tables, default_directories, names_array


class Builder:
    """Counts its calls; returns tables of several dtypes and shapes."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> dict[str, np.ndarray]:
        self.calls += 1
        return {
            "b": np.arange(10, dtype=np.int16),
            "a": np.arange(12, dtype=np.int64).reshape(3, 4) * 7,
            "empty": np.zeros(0, dtype=np.int32),
        }


def _same(x: dict[str, np.ndarray], y: dict[str, np.ndarray]) -> bool:
    return list(x) == list(y) and all(
        x[k].dtype == y[k].dtype and x[k].shape == y[k].shape and np.array_equal(x[k], y[k])
        for k in x
    )


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "module.py"
    path.write_text("TABLES = 1\n")
    return path


def test_tables_are_built_once_then_read(tmp_path: Path, source: Path) -> None:
    build = Builder()
    first = cached_tables("demo", [source], build, [tmp_path / "cache"])
    second = cached_tables("demo", [source], build, [tmp_path / "cache"])
    assert build.calls == 1
    assert _same(first, build()) and _same(second, first)
    cached = list((tmp_path / "cache").glob("demo-tables-*.npz"))
    assert len(cached) == 1
    assert list((tmp_path / "cache").iterdir()) == cached  # no temp file left beside it


def test_editing_a_source_builds_anew(tmp_path: Path, source: Path) -> None:
    build = Builder()
    other = tmp_path / "constants.py"
    other.write_text("X = 1\n")
    cached_tables("demo", [source, other], build, [tmp_path])
    other.write_text("X = 2\n")
    cached_tables("demo", [source, other], build, [tmp_path])
    assert build.calls == 2
    assert len(list(tmp_path.glob("demo-tables-*.npz"))) == 2


@pytest.mark.parametrize(
    "damage",
    ["truncate", "garbage", "foreign npz", "missing array", "lone npy", "names 2-d",
     "names not JSON", "string names", "flipped byte", "pickled array"],
)
def test_a_damaged_file_is_replaced_not_trusted(tmp_path: Path, source: Path, damage: str) -> None:
    build = Builder()
    cached_tables("demo", [source], build, [tmp_path])
    (path,) = tmp_path.glob("demo-tables-*.npz")
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "garbage":
        path.write_bytes(b"not a zip file at all")
    elif damage == "foreign npz":
        with open(path, "wb") as stream:
            np.savez(stream, a=np.ones(3))
    elif damage == "missing array":
        tables = build()
        with open(path, "wb") as stream:
            np.savez(stream, __names__=names_array(list(tables)), a=tables["a"], b=tables["b"])
    elif damage == "lone npy":
        with open(path, "wb") as stream:
            np.save(stream, np.arange(3))
    elif damage == "names 2-d":
        with open(path, "wb") as stream:
            np.savez(stream, __names__=names_array(["a", "b"]).reshape(1, -1), a=np.ones(1),
                     b=np.ones(1))
    elif damage == "names not JSON":
        with open(path, "wb") as stream:
            np.savez(stream, __names__=np.frombuffer(b"a,b", np.uint8), a=np.ones(1),
                     b=np.ones(1))
    elif damage == "string names":  # the previous format's record: not a plain numeric array
        with open(path, "wb") as stream:
            np.savez(stream, __names__=np.array(["a", "b"]), a=np.ones(1), b=np.ones(1))
    elif damage == "flipped byte":  # still a zip archive: its CRC-32 tells
        data = bytearray(path.read_bytes())
        data[data.index(np.arange(10, dtype=np.int16).tobytes()) + 3] ^= 0x01
        path.write_bytes(bytes(data))
    else:
        tables = build()
        with open(path, "wb") as stream:
            np.savez(stream, __names__=names_array(list(tables)), a=np.array([object()]),
                     b=tables["b"], empty=tables["empty"], allow_pickle=True)
    before = build.calls
    tables = cached_tables("demo", [source], build, [tmp_path])
    assert build.calls == before + 1  # rebuilt
    assert _same(tables, Builder()())
    assert _same(cached_tables("demo", [source], build, [tmp_path]), tables)
    assert build.calls == before + 1  # and the replacement is read back


def test_an_unusable_folder_falls_back_to_the_next(tmp_path: Path, source: Path) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("")
    build = Builder()
    cached_tables("demo", [source], build, [blocker / "sub", tmp_path / "user"])
    assert list((tmp_path / "user").glob("demo-tables-*.npz"))
    cached_tables("demo", [source], build, [blocker / "sub", tmp_path / "user"])
    assert build.calls == 1


def test_with_no_usable_folder_the_tables_are_still_built(tmp_path: Path, source: Path) -> None:
    blocker = tmp_path / "a file"
    blocker.write_text("")
    build = Builder()
    tables = cached_tables("demo", [source], build, [blocker / "sub"])
    assert _same(tables, build())


def test_the_card_modules_tables_equal_a_fresh_build() -> None:
    built = evaluator._build_tables()
    loaded = [evaluator.FLUSH_VALUE, evaluator.HASH5_OFFSET, evaluator.HASH5_VALUE,
              evaluator.HASH6_OFFSET, evaluator.HASH6_VALUE, evaluator.HASH7_OFFSET,
              evaluator.HASH7_VALUE]
    assert _same(dict(enumerate(built)), dict(enumerate(loaded)))
    assert _same(isomorphism._build_tables(), isomorphism._T)


def test_files_are_readable_by_every_user(tmp_path: Path, source: Path) -> None:
    cached_tables("demo", [source], Builder(), [tmp_path])
    (path,) = tmp_path.glob("demo-tables-*.npz")
    assert path.stat().st_mode & 0o777 == 0o644


def test_no_home_folder_leaves_the_package_cache(
    tmp_path: Path, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert default_directories(source) == [source.parent / "__pycache__"]
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_directories(source)[1] == tmp_path / "xdg" / "holdem_lab"
