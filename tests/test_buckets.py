"""Card abstraction tables: config validation, exact river strength against brute force,
feature kernels against brute force, the default build (valid buckets, isomorphism invariance,
monotone river buckets, weak-to-strong order), determinism across processes and thread counts,
the CLI, and `load_buckets` refusing every kind of damaged or planted file.

The default build is shared by the whole session and cached between sessions in
``$HOLDEM_LAB_CACHE`` (default ``~/.cache/holdem_lab``), keyed by the config and by the source
of the card and abstraction code, so a changed kernel is always rebuilt. The determinism check
rebuilds the default config in a fresh single-threaded process (two fresh processes and a
second config with HOLDEM_LAB_FULL=1).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import pickle
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from bucket_cache import cache_root, code_digest

from holdem_lab.abstraction import buckets as B
from holdem_lab.abstraction import features as F
from holdem_lab.abstraction.buckets import (
    ROUND_SIZES,
    BucketConfig,
    BucketTables,
    load_bucket_config,
    load_buckets,
)
from holdem_lab.abstraction.kmeans import kmeans_assign, kmeans_fit, optimal_1d
from holdem_lab.cards.deck import sample_hands
from holdem_lab.cards.evaluator import evaluate7
from holdem_lab.cards.isomorphism import (
    FLOP,
    LAYOUT_SIZES,
    RIVER,
    TURN,
    index_hands,
    preflop_class_of_name,
)
from holdem_lab.cli import buckets as cli
from holdem_lab.errors import BucketError, ConfigError

FULL = os.environ.get("HOLDEM_LAB_FULL") == "1"

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_YAML = ROOT / "holdem_lab" / "configs" / "buckets_default.yaml"
SMALL = BucketConfig(flop=8, turn=8, river=8, histogram_bins=8, kmeans_sample=20_000,
                     kmeans_iterations=20, seed=3)

# On a fresh machine the first test to ask for the default tables builds them in a subprocess
# bounded at 30 minutes (`_run_cli`), as is the single-threaded rebuild.
pytestmark = pytest.mark.timeout(1800)


# --------------------------------------------------------------------------------------------
# Brute force references
# --------------------------------------------------------------------------------------------


def brute_river_strength(hole: np.ndarray, board: np.ndarray) -> int:
    """2 * wins + ties of ``hole`` on ``board`` over all 990 opponent holdings."""
    used = set(hole.tolist()) | set(board.tolist())
    rest = [c for c in range(52) if c not in used]
    opp = np.array(list(itertools.combinations(rest, 2)), dtype=np.int8)
    hands = np.concatenate([opp, np.broadcast_to(board, (len(opp), 5))], axis=1)
    theirs = evaluate7(hands)
    mine = evaluate7(np.concatenate([hole, board])[None, :])[0]
    return int(2 * np.sum(theirs < mine) + np.sum(theirs == mine))


def brute_turn_strengths(hole: np.ndarray, board: np.ndarray) -> np.ndarray:
    """River strength of ``hole`` for each of the 46 river cards after a 4-card ``board``."""
    used = set(hole.tolist()) | set(board.tolist())
    return np.array([brute_river_strength(hole, np.append(board, x).astype(np.int8))
                     for x in range(52) if x not in used])


def cumulative(values: np.ndarray, scale: int, bins: int) -> np.ndarray:
    """The cumulative histogram the build uses (``bins - 1`` columns)."""
    hist = np.bincount((values.astype(np.int64) * bins) // (scale + 1), minlength=bins)
    return np.cumsum(hist)[: bins - 1].astype(np.float64)


def nearest(point: np.ndarray, centroids: np.ndarray) -> int:
    """Nearest centroid, summing squared differences in column order as the kernels do."""
    dist = np.zeros(centroids.shape[0])
    for j in range(centroids.shape[1]):
        dist += (point[j] - centroids[:, j]) ** 2
    return int(np.argmin(dist))


# --------------------------------------------------------------------------------------------
# The shared default build
# --------------------------------------------------------------------------------------------


def _run_cli(args: list[str], threads: int | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if threads is not None:
        env["NUMBA_NUM_THREADS"] = str(threads)
    return subprocess.run([sys.executable, "-m", "holdem_lab.cli.buckets", *args],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800)


def _prune(keep: Path) -> None:
    """Remove the cached builds of other code versions (a new version replaces them)."""
    for old in keep.parent.glob("buckets-*"):
        if old != keep and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)


@pytest.fixture(scope="session")
def default_dir() -> Path:
    """The default config built once (through the CLI, in a fresh process) and cached."""
    config = load_bucket_config(DEFAULT_YAML)
    key = hashlib.sha256((config.digest() + code_digest()).encode()).hexdigest()[:20]
    out = cache_root() / f"buckets-{key}"
    if B.buckets_up_to_date(out, config) is None:
        _prune(out)
        result = _run_cli(["--config", str(DEFAULT_YAML), "--out", str(out), "--no-progress"])
        assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="session")
def tables(default_dir: Path) -> BucketTables:
    return load_buckets(default_dir)


# --------------------------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "value"), [
    ("preflop", 0), ("preflop", 170), ("preflop", "lossy"), ("flop", 0), ("turn", -3),
    ("river", 1982), ("flop", 2.5), ("turn", True), ("histogram_bins", 1),
    ("kmeans_sample", 10), ("kmeans_iterations", 0), ("seed", -1), ("num_players", 7),
    ("flop_feature", "potential"), ("river_feature", "ehs"),
])
def test_config_rejects_bad_values(field: str, value: Any) -> None:
    with pytest.raises(ConfigError) as info:
        BucketConfig(**{field: value})
    assert info.value.field == field and repr(value) in str(info.value)


def test_config_mapping_yaml_and_defaults(tmp_path: Path) -> None:
    assert load_bucket_config(DEFAULT_YAML) == BucketConfig()
    assert BucketConfig().counts == (169, 50, 50, 50)
    assert BucketConfig(preflop=20).counts[0] == 20
    with pytest.raises(ConfigError, match="unknown key"):
        BucketConfig.from_mapping({"flops": 3})
    path = tmp_path / "c.yaml"
    path.write_text("flop: 10\nturn: 12\n")
    config = load_bucket_config(path, {"turn": 14, "seed": None})
    assert (config.flop, config.turn, config.seed) == (10, 14, 0)
    assert config.digest() == BucketConfig(flop=10, turn=14).digest() != BucketConfig().digest()
    assert B.bucket_dtype(256) == np.uint8 and B.bucket_dtype(257) == np.uint16


def test_round_sizes_match_the_index() -> None:
    assert tuple(LAYOUT_SIZES[:4]) == ROUND_SIZES


# --------------------------------------------------------------------------------------------
# Kernels against brute force
# --------------------------------------------------------------------------------------------


def test_canonical_boards() -> None:
    rng = np.random.default_rng(5)
    for k, count in ((3, 1755), (4, 16432), (5, 134459)):
        boards = F.canonical_boards(k)
        assert boards.count == count
        for cards in sample_hands(rng, 200, k).astype(np.int64):
            r = F.board_colex(cards, k, F.BINOM)
            mapped = sorted(F.PERM_CARD[boards.board_perm[r], cards].tolist())
            assert mapped == boards.cards[boards.board_id[r]].tolist()


def test_river_strength_matches_brute_force() -> None:
    """The sort-and-count strength equals the 990-opponent brute force exactly, read directly
    and through a random board's canonical board and suit renaming (as the turn reads it)."""
    rng = np.random.default_rng(11)
    river = F.canonical_boards(5)
    for hand in sample_hands(rng, 250, 7):
        hole, board = hand[:2], hand[2:]
        expected = brute_river_strength(hole, board)
        row = np.zeros(F.NUM_PAIRS, dtype=np.uint16)
        F.board_strengths(board.astype(np.int64), F.PAIR_ID, row)
        assert row[F.PAIR_ID[hole[0], hole[1]]] == expected
        r = F.board_colex(board.astype(np.int64), 5, F.BINOM)
        canon = river.cards[river.board_id[r]]
        table = F.river_strength_table(canon[None, :], F.PAIR_ID)[0]
        p = river.board_perm[r]
        assert table[F.PAIR_ID[F.PERM_CARD[p, hole[0]], F.PERM_CARD[p, hole[1]]]] == expected
        assert all(table[F.PAIR_ID[a, b]] == 0 for a, b in itertools.combinations(canon, 2))


def test_optimal_1d_matches_exhaustive_search() -> None:
    rng = np.random.default_rng(2)
    x = np.sort(rng.choice(200, size=9, replace=False))
    w = rng.integers(1, 6, size=9)

    def cost(cuts: tuple[int, ...]) -> float:
        total = 0.0
        for a, b in itertools.pairwise((0, *cuts, len(x))):
            mean = np.average(x[a:b], weights=w[a:b])
            total += float(np.sum(w[a:b] * (x[a:b] - mean) ** 2))
        return total

    for k in range(1, 7):
        best = min(itertools.combinations(range(1, len(x)), k - 1), key=cost)
        starts = optimal_1d(x, w, k)
        assert cost(tuple(starts[1:].tolist())) == pytest.approx(cost(best), rel=1e-12)
        assert starts[0] == 0 and np.all(np.diff(starts) > 0)


def test_kmeans_assign_equals_full_scan_and_fit_is_deterministic() -> None:
    rng = np.random.default_rng(4)
    data = np.sort(rng.integers(0, 47, size=(20_000, 12)), axis=1).astype(np.uint8)
    centroids, _ = kmeans_fit(data[:4000], 16, np.random.default_rng(9), 30)
    again, _ = kmeans_fit(data[:4000], 16, np.random.default_rng(9), 30)
    assert np.array_equal(centroids, again)
    centroids[3] = centroids[10]  # an exact tie goes to the lower index
    labels = kmeans_assign(data, centroids, chunk=7000)
    full = np.array([nearest(row.astype(np.float64), centroids) for row in data[:3000]])
    assert np.array_equal(labels[:3000], full)
    assert not np.any(labels == 10)


# --------------------------------------------------------------------------------------------
# The default build
# --------------------------------------------------------------------------------------------


def test_every_index_maps_to_a_valid_bucket(tables: BucketTables) -> None:
    assert tables.counts == (169, 50, 50, 50)
    for r, table in enumerate(tables.tables):
        assert table.shape == (ROUND_SIZES[r],) and table.dtype == np.uint8
        assert int(table.max()) < tables.counts[r]
        counts = np.bincount(table, minlength=tables.counts[r])
        assert np.array_equal(counts, tables.sizes[r])
        assert np.all(counts > 0)  # no empty bucket
    assert np.array_equal(tables.preflop, np.arange(169))


def test_buckets_are_ordered_weak_to_strong(tables: BucketTables) -> None:
    for strength in tables.strength[1:]:  # preflop is lossless: buckets are the classes
        assert np.all(np.diff(strength) > 0)
    assert tables.preflop_equity[preflop_class_of_name("AA")] == pytest.approx(0.8520, abs=5e-4)
    assert tables.preflop_equity[preflop_class_of_name("72o")] == pytest.approx(0.3458, abs=5e-4)
    assert tables.bucket("AsKs QsJsTs") == 49  # a royal flush is in the top flop bucket


def test_isomorphic_hands_share_buckets(tables: BucketTables) -> None:
    rng = np.random.default_rng(21)
    for ncards, layout in ((5, FLOP), (6, TURN), (7, RIVER)):
        hands = sample_hands(rng, 500, ncards).astype(np.int64)
        base = tables.tables[layout][index_hands(hands, layout)]
        for _ in range(3):
            perm = rng.permutation(4)
            renamed = 4 * (hands >> 2) + perm[hands & 3]
            board = renamed[:, 2:]
            renamed[:, 2:] = board[:, rng.permutation(board.shape[1])]  # reorder the board
            renamed[:, :2] = renamed[:, [1, 0]]
            assert np.array_equal(tables.tables[layout][index_hands(renamed, layout)], base)
        assert [tables.bucket(h.tolist()) for h in hands[:20]] == base[:20].tolist()


def test_river_buckets_are_monotone_in_brute_force_strength(tables: BucketTables) -> None:
    """Strength by brute force over the opponent holdings; the bucket is the interval of the
    river bounds holding it, so a lower bucket always means a strictly lower strength."""
    rng = np.random.default_rng(33)
    hands = sample_hands(rng, 300, 7)
    strength = np.array([brute_river_strength(h[:2], h[2:]) for h in hands])
    bucket = tables.river[index_hands(hands, RIVER)].astype(np.int64)
    expected = np.searchsorted(tables.river_bounds, strength, side="right") - 1
    assert np.array_equal(bucket, expected)
    lower = bucket[:, None] < bucket[None, :]
    first = np.broadcast_to(strength[:, None], lower.shape)[lower]
    second = np.broadcast_to(strength[None, :], lower.shape)[lower]
    assert lower.any() and np.all(first < second)


def test_turn_buckets_match_brute_force_features(tables: BucketTables) -> None:
    """The turn bucket of random hands is the nearest saved centroid to the histogram of their
    brute-force river strengths (every step of the turn pipeline checked end to end)."""
    rng = np.random.default_rng(44)
    bins = tables.config.histogram_bins
    hands = sample_hands(rng, 40, 6)
    for hand in hands:
        point = cumulative(brute_turn_strengths(hand[:2], hand[2:]), F.RIVER_SCALE, bins)
        assert tables.turn[index_hands(hand[None, :], TURN)[0]] == nearest(
            point, tables.centroids[2])


def test_flop_bucket_matches_brute_force_features(tables: BucketTables) -> None:
    rng = np.random.default_rng(55)
    bins = tables.config.histogram_bins
    for hand in sample_hands(rng, 2, 5):
        used = set(hand.tolist())
        sums = [brute_turn_strengths(hand[:2], np.append(hand[2:], t).astype(np.int8)).sum()
                for t in range(52) if t not in used]
        point = cumulative(np.array(sums), F.TURN_SCALE, bins)
        assert tables.flop[index_hands(hand[None, :], FLOP)[0]] == nearest(
            point, tables.centroids[1])


def test_summary_json(default_dir: Path, tables: BucketTables) -> None:
    meta = json.loads((default_dir / "buckets.json").read_text())
    assert meta["sha256"] == tables.sha256 == B.file_sha256(default_dir / "buckets.npz")
    assert meta["counts"] == {"preflop": 169, "flop": 50, "turn": 50, "river": 50}
    assert meta["config"]["num_players"] == 2
    assert meta["build_seconds"] > 0 and meta["peak_rss_bytes"] > 0
    with zipfile.ZipFile(default_dir / "buckets.npz") as zf:  # fixed timestamps, no pickles
        assert {info.date_time for info in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


# --------------------------------------------------------------------------------------------
# Determinism and the command line
# --------------------------------------------------------------------------------------------


def test_same_config_same_sha_in_a_fresh_single_threaded_process(
        default_dir: Path, tables: BucketTables, tmp_path: Path) -> None:
    result = _run_cli(["--config", str(DEFAULT_YAML), "--out", str(tmp_path / "again"),
                       "--no-progress"], threads=1)
    assert result.returncode == 0, result.stderr
    assert f"sha256: {tables.sha256}" in result.stdout
    assert (tmp_path / "again" / "buckets.npz").read_bytes() == (
        default_dir / "buckets.npz").read_bytes()


@pytest.mark.slow
@pytest.mark.skipif(not FULL, reason="two more full builds: HOLDEM_LAB_FULL=1")
def test_small_config_same_sha_in_two_processes(tmp_path: Path) -> None:
    args = [f"--{name}={value}" for name, value in (
        ("flop", SMALL.flop), ("turn", SMALL.turn), ("river", SMALL.river),
        ("bins", SMALL.histogram_bins), ("sample", SMALL.kmeans_sample),
        ("iterations", SMALL.kmeans_iterations), ("seed", SMALL.seed))]
    shas = []
    for threads, name in ((1, "a"), (2, "b")):
        result = _run_cli([*args, "--out", str(tmp_path / name), "--no-progress"], threads)
        assert result.returncode == 0, result.stderr
        shas.append(load_buckets(tmp_path / name).sha256)
    assert shas[0] == shas[1]
    assert load_buckets(tmp_path / "a").config == SMALL


def test_cli_up_to_date_help_and_errors(default_dir: Path, tables: BucketTables,
                                        capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    assert cli.main(["--config", str(DEFAULT_YAML), "--out", str(default_dir)]) == 0
    assert capsys.readouterr().out.strip() == f"buckets up to date: {tables.sha256}"
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0 and "exit codes" in capsys.readouterr().out
    assert cli.main(["--out", str(tmp_path), "--flop", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "holdem-build-buckets: error: invalid configuration: flop=0: must be >= 1"
    bad = tmp_path / "bad.yaml"
    bad.write_text("flop: 10\nbogus: 1\n")
    assert cli.main(["--config", str(bad), "--out", str(tmp_path)]) == 2
    assert "unknown key" in capsys.readouterr().err
    assert cli.main(["--config", str(tmp_path / "none.yaml"), "--out", str(tmp_path)]) == 2
    with pytest.raises(SystemExit) as info:
        cli.main(["--out", str(tmp_path), "--preflop", "lots"])
    assert info.value.code == 2
    assert not (tmp_path / "buckets.npz").exists()


# --------------------------------------------------------------------------------------------
# Refusals
# --------------------------------------------------------------------------------------------


def _arrays(default_dir: Path) -> dict[str, np.ndarray]:
    with np.load(default_dir / "buckets.npz", allow_pickle=False) as data:
        return {name: data[name] for name in B._ARRAY_ORDER}


def _resign(directory: Path, meta: dict[str, Any]) -> None:
    """Record the npz's current size and sha256 in the JSON, as a forger would."""
    npz = directory / "buckets.npz"
    meta = dict(meta, sha256=B.file_sha256(npz), npz_bytes=npz.stat().st_size)
    (directory / "buckets.json").write_text(json.dumps(meta))


def _forge(default_dir: Path, directory: Path, **changes: np.ndarray) -> None:
    directory.mkdir()
    arrays = _arrays(default_dir) | changes
    B._write_npz(directory / "buckets.npz", [(n, arrays[n]) for n in B._ARRAY_ORDER])
    _resign(directory, json.loads((default_dir / "buckets.json").read_text()))


def _copy(default_dir: Path, directory: Path) -> Path:
    directory.mkdir()
    shutil.copyfile(default_dir / "buckets.npz", directory / "buckets.npz")
    shutil.copyfile(default_dir / "buckets.json", directory / "buckets.json")
    return directory / "buckets.npz"


def test_refuses_a_changed_byte(default_dir: Path, tables: BucketTables, tmp_path: Path) -> None:
    npz = _copy(default_dir, tmp_path / "x")
    with open(npz, "r+b") as handle:
        handle.seek(npz.stat().st_size // 2)
        byte = handle.read(1)
        handle.seek(-1, os.SEEK_CUR)
        handle.write(bytes([byte[0] ^ 1]))
    with pytest.raises(BucketError) as info:
        load_buckets(npz)
    message = str(info.value)
    assert "was modified" in message and tables.sha256 in message
    assert B.file_sha256(npz) in message and "\n" not in message


def test_refuses_a_truncated_file(default_dir: Path, tmp_path: Path) -> None:
    npz = _copy(default_dir, tmp_path / "x")
    with open(npz, "r+b") as handle:
        handle.truncate(npz.stat().st_size - 4096)
    with pytest.raises(BucketError, match="is truncated"):
        load_buckets(tmp_path / "x")


def test_refuses_a_missing_json(default_dir: Path, tmp_path: Path) -> None:
    npz = _copy(default_dir, tmp_path / "x")
    (tmp_path / "x" / "buckets.json").unlink()
    with pytest.raises(BucketError, match=r"buckets\.json is missing"):
        load_buckets(npz)
    with pytest.raises(BucketError, match="bucket file not found"):
        load_buckets(tmp_path / "nowhere" / "buckets.npz")
    (tmp_path / "x" / "buckets.json").write_text("{not json")
    with pytest.raises(BucketError, match="not readable JSON"):
        load_buckets(npz)


def test_refuses_a_wrong_table_length(default_dir: Path, tmp_path: Path) -> None:
    flop = _arrays(default_dir)["flop"]
    _forge(default_dir, tmp_path / "x", flop=flop[:-1])
    with pytest.raises(BucketError, match=r"array 'flop' has 1,286,791 entries, expected "
                                          r"1,286,792"):
        load_buckets(tmp_path / "x")


def test_refuses_a_value_out_of_range(default_dir: Path, tmp_path: Path) -> None:
    river = _arrays(default_dir)["river"].copy()
    river[123] = 50
    _forge(default_dir, tmp_path / "x", river=river)
    with pytest.raises(BucketError, match=r"table 'river' holds bucket 50, but river has 50 "
                                          r"buckets"):
        load_buckets(tmp_path / "x")


def test_refuses_counts_that_disagree_with_the_config(default_dir: Path, tmp_path: Path) -> None:
    npz = _copy(default_dir, tmp_path / "x")
    meta = json.loads((tmp_path / "x" / "buckets.json").read_text())
    meta["counts"]["turn"] = 49
    _resign(tmp_path / "x", meta)
    with pytest.raises(BucketError, match="do not match the config"):
        load_buckets(npz)


class _Payload:
    """Unpickling this would create the marker file: the test checks it never exists."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


def test_refuses_a_planted_pickle(default_dir: Path, tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    # an object array whose pickle would run code, in a correctly signed file
    directory = tmp_path / "x"
    directory.mkdir()
    arrays = _arrays(default_dir)
    with zipfile.ZipFile(directory / "buckets.npz", "w") as zf:
        for name in B._ARRAY_ORDER:
            value = arrays[name]
            if name == "river":
                value = np.array([_Payload(marker)], dtype=object)
            with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, value, allow_pickle=True)
    _resign(directory, json.loads((default_dir / "buckets.json").read_text()))
    with pytest.raises(BucketError, match="object arrays are pickles"):
        load_buckets(directory)
    # a bare pickle posing as the npz
    bare = tmp_path / "y"
    bare.mkdir()
    (bare / "buckets.npz").write_bytes(pickle.dumps(_Payload(marker)))
    _resign(bare, json.loads((default_dir / "buckets.json").read_text()))
    with pytest.raises(BucketError, match="not a readable npz archive"):
        load_buckets(bare)
    assert not marker.exists()


def test_resuming_with_other_buckets_is_refused_naming_both(default_dir: Path,
                                                            tables: BucketTables,
                                                            tmp_path: Path) -> None:
    """A real bucket swap: a Hold'em run trained with the default buckets, resumed without
    them (the lossless preflop-only abstraction), is refused with exit code 5, naming both,
    and nothing is written; with its own buckets it resumes. The guide's form of the command
    (--buckets, no --game) trains Hold'em."""
    logdir = tmp_path / "run"

    def train(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "holdem_lab.cli.train", "--logdir", str(logdir), "--iters",
             "40", "--chunked", "--chunk-iterations", "20", "--batch-iterations", "20",
             "--no-progress", "--no-tensorboard", *extra],
            capture_output=True, text=True, cwd=ROOT, timeout=600)

    assert load_buckets(default_dir / "buckets.json").sha256 == tables.sha256  # any of the 3
    first = train("--buckets", str(default_dir))
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in (logdir / "checkpoints").iterdir()}
    swapped = train("--game", "holdem")
    assert swapped.returncode == 5, swapped.stderr
    assert tables.sha256 in swapped.stderr and "None" in swapped.stderr
    assert {p.name: p.read_bytes() for p in (logdir / "checkpoints").iterdir()} == before
    resumed = train("--buckets", str(default_dir / "buckets.npz"))
    assert resumed.returncode == 3, resumed.stderr
    assert "Successfully resumed from iteration 20" in resumed.stdout
