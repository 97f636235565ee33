"""Card abstraction tables for Hold'em: configuration, build, save and verified load.

A *bucket table* maps every suit-isomorphism class of a round (the index of
`holdem_lab.cards.isomorphism`, board unordered) to a bucket id, so the solver's infoset of a
player is (betting node, bucket) and the bucket of a deal is one lookup::

    bucket = tables[round][index_kernel(cards, round)]   # round 0..3 = layout 0..3

with ``cards`` the hole cards then the visible board. Bucket ids are ordered weak to strong on
every round (bucket 0 has the lowest mean hand strength).

Features, one per round, after Johanson, Burch, Valenzano & Bowling, "Evaluating state-space
abstractions in extensive-form games", AAMAS 2013:

* river: exact *hand strength* (HS) against one uniformly random opponent holding, ties counting
  half (`holdem_lab.abstraction.features`);
* turn: *distribution-aware* -- the histogram, over the 46 river cards, of the river HS, in
  ``histogram_bins`` equal-width bins of [0, 1];
* flop: the histogram over the 47 turn cards of the turn hand's expected HS (E[HS]);
* preflop: lossless (the 169 classes), or the histogram over the 19,600 flops of the flop E[HS].

Hand strength against one uniform opponent is the standard stand-in for multiway pots:
`BucketConfig.num_players` is recorded with the tables but does not change them.

Clustering. The river is one-dimensional: its buckets are the optimal weighted 1-D k-means
partition of the strength values (Wang & Song 2011, `kmeans.optimal_1d`), which is a partition
into intervals, so the bucket index is monotone in strength. Turn, flop (and a clustered
preflop) use k-means on the *cumulative* histograms. Johanson et al. compare histograms with the
earth mover's distance; for distributions on a line, EMD equals the L1 distance between the
cumulative distribution functions, and k-means with squared L2 on the CDF vectors (which needs
means, which L1/EMD medoids lack) is the usual tractable stand-in: both measure how far
probability mass must move along the strength axis. The centroids are fitted by k-means++ and
Lloyd iterations on ``kmeans_sample`` points drawn with ``np.random.default_rng([seed, round])``,
then every point is assigned; clusters are renumbered by mean E[HS]. Every canonical hand is one
point (hands are not weighted by the number of deals they stand for).

Files. `build_buckets` writes ``buckets.npz`` (uncompressed zip with fixed member order,
timestamps and attributes: the same config gives a byte-identical file, whatever the thread
count) and ``buckets.json`` (config, counts, build time, peak memory, and the sha256 of the
npz; its timings differ from build to build, the hash does not). Besides the four tables
(``preflop``, ``flop``, ``turn``, ``river``: smallest unsigned dtype holding k) the npz holds
per-bucket summaries: ``<round>_strength`` (mean E[HS]), ``<round>_sizes`` (canonical hands),
``<round>_centroids`` (preflop, flop, turn), ``river_bounds`` (the smallest ``2 * wins + ties``
of each river bucket: ``bucket = searchsorted(river_bounds, strength, "right") - 1``),
``preflop_equity`` and ``num_buckets``. `load_buckets` refuses anything that does not verify.
No pickles are ever written or read.

Whether potential-aware flop features (Ganzfried & Sandholm, "Potential-aware imperfect-recall
abstraction with earth mover's distance in imperfect-information games", AAAI 2014) would pay
off is left open: ``flop_feature`` accepts only the distribution-aware histogram for now.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import platform
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from holdem_lab.checkpoint import atomic_file, atomic_write
from holdem_lab.checkpoint.arrays import NpyVersionError, read_npy_header
from holdem_lab.config import load_yaml_mapping
from holdem_lab.errors import BucketError, ConfigError
from holdem_lab.process import peak_rss_bytes

__all__ = [
    "FORMAT",
    "JSON_NAME",
    "NPZ_NAME",
    "ROUNDS",
    "ROUND_SIZES",
    "BucketConfig",
    "BucketFiles",
    "BucketTables",
    "build_buckets",
    "bucket_dtype",
    "buckets_up_to_date",
    "load_bucket_config",
    "load_buckets",
]

FORMAT = "holdem_lab.buckets/1"
NPZ_NAME = "buckets.npz"
JSON_NAME = "buckets.json"
ROUNDS: tuple[str, ...] = ("preflop", "flop", "turn", "river")
ROUND_SIZES: tuple[int, ...] = (169, 1_286_792, 13_960_050, 123_156_254)
"""Canonical hands per round: `holdem_lab.cards.isomorphism.round_size` of layouts 0..3."""

FEATURES: dict[str, tuple[str, ...]] = {
    "flop_feature": ("ehs_histogram",),
    "turn_feature": ("ehs_histogram",),
    "river_feature": ("hand_strength",),
}
MAX_CLUSTERED = 65_536
RIVER_STRENGTH_VALUES = 1981  # 2 * wins + ties in 0..1980
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_MAX_JSON_BYTES = 1 << 20
_MAX_SUMMARY = 1 << 20  # bound on any per-bucket array read from a file


def _require_int(name: str, value: object, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ConfigError(name, value, "must be an integer")
    if value < minimum:
        raise ConfigError(name, value, f"must be >= {minimum}")
    if maximum is not None and value > maximum:
        raise ConfigError(name, value, f"must be <= {maximum}")
    return int(value)


@dataclass(frozen=True, kw_only=True)
class BucketConfig:
    """Everything that decides the bucket tables; frozen, keyword-only, validated.

    ``preflop`` is ``"lossless"`` (the 169 classes) or a number of clusters 1..169; ``flop``,
    ``turn`` (1..65,536) and ``river`` (1..1,981, the number of distinct river strengths) are
    numbers of buckets. The feature kinds are recorded by name: ``river_feature="hand_strength"``,
    ``turn_feature`` and ``flop_feature`` ``"ehs_histogram"`` (distribution-aware, Johanson et
    al. 2013) with ``histogram_bins`` equal-width bins. ``kmeans_sample`` points (at least the
    largest k) fit the centroids, for at most ``kmeans_iterations`` Lloyd iterations, seeded
    with ``seed``. ``num_players`` is recorded only (strength vs one uniform opponent is the
    stand-in for multiway). Invalid values raise `ConfigError` naming the field and value.
    """

    preflop: int | str = "lossless"
    flop: int = 50
    turn: int = 50
    river: int = 50
    flop_feature: str = "ehs_histogram"
    turn_feature: str = "ehs_histogram"
    river_feature: str = "hand_strength"
    histogram_bins: int = 20
    kmeans_sample: int = 200_000
    kmeans_iterations: int = 100
    seed: int = 0
    num_players: int = 2

    def __post_init__(self) -> None:
        if self.preflop != "lossless":
            if isinstance(self.preflop, str):
                raise ConfigError("preflop", self.preflop,
                                  "must be 'lossless' or a number of buckets 1..169")
            object.__setattr__(self, "preflop", _require_int("preflop", self.preflop, 1, 169))
        _require_int("flop", self.flop, 1, MAX_CLUSTERED)
        _require_int("turn", self.turn, 1, MAX_CLUSTERED)
        _require_int("river", self.river, 1, RIVER_STRENGTH_VALUES)
        for name, kinds in FEATURES.items():
            if getattr(self, name) not in kinds:
                raise ConfigError(name, getattr(self, name), f"must be one of {', '.join(kinds)}")
        _require_int("histogram_bins", self.histogram_bins, 2, 255)
        _require_int("kmeans_sample", self.kmeans_sample, 1, 5_000_000)
        if self.kmeans_sample < max(self.flop, self.turn):
            raise ConfigError("kmeans_sample", self.kmeans_sample,
                              f"must be >= the largest clustered k ({max(self.flop, self.turn)})")
        _require_int("kmeans_iterations", self.kmeans_iterations, 1, 10_000)
        _require_int("seed", self.seed, 0, 2**63 - 1)
        _require_int("num_players", self.num_players, 2, 6)
        for name in ("flop", "turn", "river", "histogram_bins", "kmeans_sample",
                     "kmeans_iterations", "seed", "num_players"):
            object.__setattr__(self, name, int(getattr(self, name)))

    @property
    def counts(self) -> tuple[int, int, int, int]:
        """Number of buckets of each round (preflop, flop, turn, river)."""
        pre = 169 if self.preflop == "lossless" else int(self.preflop)
        return (pre, self.flop, self.turn, self.river)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every field."""
        return dataclasses.asdict(self)

    def digest(self) -> str:
        """sha256 of the canonical JSON of the config (a cache key)."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def replace(self, **changes: Any) -> BucketConfig:
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> BucketConfig:
        """Build from a mapping of field names; unknown keys raise `ConfigError`."""
        if not isinstance(values, Mapping):
            raise ConfigError("<config>", values, "must be a mapping of field names to values")
        known = {f.name for f in dataclasses.fields(cls)}
        for key in values:
            if key not in known:
                raise ConfigError(str(key), values[key],
                                  f"unknown key (known keys: {', '.join(sorted(known))})")
        return cls(**dict(values))


def load_bucket_config(path: str | Path, overrides: Mapping[str, Any] | None = None
                       ) -> BucketConfig:
    """Read a YAML bucket config; ``overrides`` (e.g. command-line flags, None = unset) win."""
    values = load_yaml_mapping(path)
    if overrides:
        values.update({k: v for k, v in overrides.items() if v is not None})
    return BucketConfig.from_mapping(values)


def bucket_dtype(k: int) -> np.dtype[Any]:
    """Smallest unsigned integer dtype holding bucket ids 0..k-1."""
    for dtype in (np.uint8, np.uint16, np.uint32):
        if k - 1 <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.uint64)


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BucketFiles:
    """What `build_buckets` wrote: the two paths, the npz's sha256 and the JSON summary."""

    npz: Path
    json: Path
    sha256: str
    summary: dict[str, Any]


@dataclass(frozen=True, eq=False)
class BucketTables:
    """Verified bucket tables (see `load_buckets`).

    ``tables[r]`` maps the isomorphic index of round ``r`` (0 preflop .. 3 river) to its bucket;
    ``counts[r]`` is the number of buckets; ``strength[r][b]`` the mean E[HS] of bucket ``b``
    over its canonical hands (NaN if empty); ``sizes[r][b]`` its number of canonical hands;
    ``river_bounds[b]`` the smallest river strength ``2 * wins + ties`` (out of 1,980) of river
    bucket ``b``; ``preflop_equity[c]`` the exact equity of preflop class ``c`` against one
    random hand; ``centroids[r][b]`` (preflop, flop, turn) the k-means centroid of bucket ``b``
    as a cumulative histogram of counts (``histogram_bins - 1`` columns; for a lossless preflop
    the class's own histogram).
    """

    tables: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    counts: tuple[int, int, int, int]
    sha256: str
    config: BucketConfig
    strength: tuple[np.ndarray, ...]
    sizes: tuple[np.ndarray, ...]
    river_bounds: np.ndarray
    preflop_equity: np.ndarray
    centroids: tuple[np.ndarray, np.ndarray, np.ndarray]
    path: Path
    meta: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, round_: int) -> np.ndarray:
        return self.tables[round_]

    @property
    def preflop(self) -> np.ndarray:
        return self.tables[0]

    @property
    def flop(self) -> np.ndarray:
        return self.tables[1]

    @property
    def turn(self) -> np.ndarray:
        return self.tables[2]

    @property
    def river(self) -> np.ndarray:
        return self.tables[3]

    def bucket(self, cards: Any) -> int:
        """Bucket of one hand given as hole cards then board (2, 5, 6 or 7 cards; ints, strings
        or text such as ``"AsKd 7h7c2d"``)."""
        from holdem_lab.cards.deck import parse_cards
        from holdem_lab.cards.isomorphism import LAYOUT_CARDS, index_hand

        ncards = parse_cards(cards).size if isinstance(cards, str) else len(cards)
        if ncards not in LAYOUT_CARDS[:4]:
            raise BucketError(f"a hand has 2, 5, 6 or 7 cards (hole cards then board), "
                              f"got {ncards}")
        round_ = LAYOUT_CARDS.index(ncards)
        return int(self.tables[round_][index_hand(cards, round_)])


# --------------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------------


class _Stages:
    """Times each stage and gives it a progress bar (tqdm, disabled when not wanted)."""

    def __init__(self, progress: bool) -> None:
        self.progress = progress
        self.seconds: dict[str, float] = {}
        self.cpu_seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str, total: int, unit: str) -> Iterator[Callable[[int], object]]:
        from tqdm.auto import tqdm

        start = time.perf_counter()
        cpu = time.process_time()
        with tqdm(total=total, desc=name, unit=unit, disable=not self.progress,
                  dynamic_ncols=True, leave=True) as bar:
            yield bar.update
        self.seconds[name] = round(time.perf_counter() - start, 3)
        self.cpu_seconds[name] = round(time.process_time() - cpu, 3)


def _chunked(total: int, parts: int) -> Iterator[tuple[int, int]]:
    step = max(1, math.ceil(total / parts))
    for start in range(0, total, step):
        yield start, min(total, start + step)


def _relabel(labels: np.ndarray, totals: np.ndarray, k: int, scale: int
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Renumber clusters by mean E[HS] (empty clusters last, ties by old id): returns the new id
    of each old cluster, the mean strength and the size of each new bucket."""
    from holdem_lab.abstraction.features import cluster_sums

    sums, sizes = cluster_sums(labels, totals, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / (sizes.astype(np.float64) * scale)
    key = np.where(sizes > 0, mean, np.inf)
    order = np.argsort(key, kind="stable")
    new_id = np.empty(k, dtype=np.int64)
    new_id[order] = np.arange(k)
    return new_id, mean[order], sizes[order]


def _histogram_features(name: str, round_index: int, boards: Any, next_boards: Any,
                        next_values: np.ndarray, scale: int, sum_dtype: type[np.integer[Any]],
                        bins: int, parts: int, stages: Any
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distribution-aware features of one round (turn or flop): for every canonical hand, the
    histogram over the next card of the next round's value (`next_values`, per board and
    holding), plus each hand's value total and index, and the per-board value table the round
    before this one reads. `sum_dtype` holds the totals and the table (int32 fits the turn's
    sums of river strengths; the flop's sums of turn sums need int64)."""
    from holdem_lab.abstraction import features as F

    size = ROUND_SIZES[round_index]
    offsets = F.representative_offsets(boards)
    _check_total(name, int(offsets[-1]), size)
    features = np.zeros((size, bins - 1), dtype=np.uint8)
    totals = np.zeros(size, dtype=sum_dtype)
    indices = np.zeros(size, dtype=np.int64)
    table = np.zeros((boards.count, F.NUM_PAIRS), dtype=sum_dtype)
    with stages.stage(f"{name} features", total=boards.count, unit="board") as update:
        for start, stop in _chunked(boards.count, parts):
            F.next_round_features(boards, next_boards, next_values, scale, offsets, features,
                                  totals, indices, table, start, stop)
            update(stop - start)
    return features, totals, indices, table


def _cluster_round(
    name: str,
    features: np.ndarray,
    totals: np.ndarray,
    indices: np.ndarray | None,
    k: int,
    scale: int,
    config: BucketConfig,
    round_id: int,
    stages: _Stages,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """k-means of one round's cumulative histograms (row ``i`` is the canonical hand
    ``indices[i]``, or ``i`` when ``indices`` is None): (table, strength, sizes, centroids,
    iterations), buckets numbered weak to strong."""
    from holdem_lab.abstraction.features import scatter_labels
    from holdem_lab.abstraction.kmeans import kmeans_assign, kmeans_fit

    n = features.shape[0]
    rng = np.random.default_rng([config.seed, round_id])
    m = min(config.kmeans_sample, n)
    sample = features[np.sort(rng.choice(n, size=m, replace=False))] if m < n else features
    with stages.stage(f"{name} k-means fit", total=k - 1 + config.kmeans_iterations,
                      unit="step") as update:
        centroids, iterations = kmeans_fit(sample, k, rng, config.kmeans_iterations, update)
    del sample
    with stages.stage(f"{name} assign", total=n, unit="hand") as update:
        labels = kmeans_assign(features, centroids, progress=update)
    new_id, strength, sizes = _relabel(labels, totals, k, scale)
    table = np.zeros(n, dtype=bucket_dtype(k))
    if indices is None:
        indices = np.arange(n, dtype=np.int64)
    scatter_labels(indices, labels, new_id, table)
    ordered = np.empty_like(centroids)
    ordered[new_id] = centroids
    return table, strength, sizes, ordered, iterations


def build_buckets(config: BucketConfig, out_dir: str | Path, progress: bool = True
                  ) -> BucketFiles:
    """Compute the four bucket tables of ``config`` and write ``out_dir/buckets.npz`` and
    ``out_dir/buckets.json`` (see the module docstring).

    Stages: canonical boards; river strength of every canonical river hand (per canonical
    board: 1,081 evaluations, one sort and card-removal counts); river 1-D k-means; turn
    histograms from the river strengths; turn k-means; flop histograms from the turn E[HS];
    flop k-means; preflop. Kernels run in parallel over boards with per-hand writes only, so the
    result does not depend on the thread count. Raises `BucketError` when the config cannot be
    built (e.g. more river buckets than distinct river strengths) and OSError when the files
    cannot be written.
    """
    from holdem_lab.abstraction import features as F
    from holdem_lab.abstraction.kmeans import optimal_1d
    from holdem_lab.cards.isomorphism import PREFLOP, unindex_hands

    if not isinstance(config, BucketConfig):
        raise TypeError(f"config must be a BucketConfig, got {type(config).__name__}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    started_cpu = time.process_time()
    stages = _Stages(progress)
    k_pre, k_flop, k_turn, k_river = config.counts
    bins = config.histogram_bins
    arrays: dict[str, np.ndarray] = {}
    iterations: dict[str, int] = {}

    with stages.stage("canonical boards", total=3, unit="size") as update:
        boards = {}
        for size in (3, 4, 5):
            boards[size] = F.canonical_boards(size)
            update(1)
    flop_b, turn_b, river_b = boards[3], boards[4], boards[5]

    # River: strength of every hole pair on every canonical board, then the optimal 1-D
    # k-means of the strengths of the canonical river hands.
    river_strength = np.zeros((river_b.count, F.NUM_PAIRS), dtype=np.uint16)
    with stages.stage("river strength", total=river_b.count, unit="board") as update:
        for start, stop in _chunked(river_b.count, 200):
            F.river_strengths(river_b, river_strength, start, stop)
            update(stop - start)
    with stages.stage("river buckets", total=river_b.count, unit="board") as update:
        hist = F.river_histogram(river_b, river_strength, RIVER_STRENGTH_VALUES)
        _check_total("river", int(hist.sum()), ROUND_SIZES[3])
        values = np.flatnonzero(hist)
        if k_river > values.size:
            raise BucketError(f"river={k_river}: only {values.size} distinct river strengths "
                              "exist, so at most that many river buckets")
        starts = optimal_1d(values, hist[values], k_river)
        bounds = values[starts].astype(np.uint16)
        lut = np.searchsorted(bounds, np.arange(RIVER_STRENGTH_VALUES), side="right") - 1
        river_table = np.zeros(ROUND_SIZES[3], dtype=bucket_dtype(k_river))
        reps = np.zeros(river_b.count, dtype=np.int64)
        for start, stop in _chunked(river_b.count, 100):
            F.river_table(river_b, river_strength, lut.astype(np.int64), river_table, reps,
                          start, stop)
            update(stop - start)
        _check_total("river", int(reps.sum()), ROUND_SIZES[3])
        sizes = np.add.reduceat(hist[values], starts)
        sums = np.add.reduceat(hist[values] * values, starts)
        arrays["river"] = river_table
        arrays["river_strength"] = sums / (sizes * float(F.RIVER_SCALE))
        arrays["river_sizes"] = sizes.astype(np.int64)
        arrays["river_bounds"] = bounds

    # Turn: histograms over the river card of the river strength.
    turn_features, turn_totals, turn_indices, turn_table = _histogram_features(
        "turn", 2, turn_b, river_b, river_strength, F.RIVER_SCALE, np.int32, bins, 100,
        stages)
    del river_strength
    table, strength, sizes, centroids, iterations["turn"] = _cluster_round(
        "turn", turn_features, turn_totals, turn_indices, k_turn, F.TURN_SCALE, config, 2,
        stages)
    arrays["turn"], arrays["turn_strength"], arrays["turn_sizes"] = table, strength, sizes
    arrays["turn_centroids"] = centroids
    del turn_features, turn_totals, turn_indices

    # Flop: histograms over the turn card of the turn E[HS].
    flop_features, flop_totals, flop_indices, flop_table = _histogram_features(
        "flop", 1, flop_b, turn_b, turn_table, F.TURN_SCALE, np.int64, bins, 50, stages)
    del turn_table
    table, strength, sizes, centroids, iterations["flop"] = _cluster_round(
        "flop", flop_features, flop_totals, flop_indices, k_flop, F.FLOP_SCALE, config, 1,
        stages)
    arrays["flop"], arrays["flop_strength"], arrays["flop_sizes"] = table, strength, sizes
    arrays["flop_centroids"] = centroids
    del flop_features, flop_totals, flop_indices

    # Preflop: exact equity per class; lossless, or k-means on histograms over the flops.
    with stages.stage("preflop", total=1, unit="step") as update:
        holes = unindex_hands(np.arange(ROUND_SIZES[0]), PREFLOP)
        pre_features, pre_totals = F.preflop_features(holes, flop_b, flop_table, bins)
        equity = pre_totals / float(F.PREFLOP_SCALE)
        update(1)
    if config.preflop == "lossless":
        arrays["preflop"] = np.arange(ROUND_SIZES[0], dtype=np.uint8)
        arrays["preflop_strength"] = equity.copy()
        arrays["preflop_sizes"] = np.ones(ROUND_SIZES[0], dtype=np.int64)
        arrays["preflop_centroids"] = pre_features.astype(np.float64)
    else:
        cfg = config.replace(kmeans_sample=max(config.kmeans_sample, ROUND_SIZES[0]))
        table, strength, sizes, centroids, iterations["preflop"] = _cluster_round(
            "preflop", pre_features, pre_totals, None, k_pre, F.PREFLOP_SCALE, cfg, 0, stages)
        arrays["preflop"], arrays["preflop_strength"] = table, strength
        arrays["preflop_sizes"] = sizes
        arrays["preflop_centroids"] = centroids
    arrays["preflop_equity"] = equity
    arrays["num_buckets"] = np.array(config.counts, dtype=np.int64)

    with stages.stage("write", total=1, unit="file") as update:
        json_path = out / JSON_NAME
        npz_path = out / NPZ_NAME
        json_path.unlink(missing_ok=True)  # a half-written build never looks complete
        npz_bytes = _write_npz(npz_path, [(name, arrays[name]) for name in _ARRAY_ORDER])
        sha = file_sha256(npz_path)
        update(1)
    summary = {
        "format": FORMAT,
        "config": config.to_dict(),
        "config_sha256": config.digest(),
        "counts": dict(zip(ROUNDS, config.counts, strict=True)),
        "round_sizes": dict(zip(ROUNDS, ROUND_SIZES, strict=True)),
        "dtypes": {name: str(arrays[name].dtype) for name in ROUNDS},
        "arrays": list(_ARRAY_ORDER),
        "npz": NPZ_NAME,
        "npz_bytes": npz_bytes,
        "sha256": sha,
        "kmeans_iterations_run": iterations,
        "build_seconds": round(time.perf_counter() - started, 3),
        "build_cpu_seconds": round(time.process_time() - started_cpu, 3),
        "stage_seconds": stages.seconds,
        "stage_cpu_seconds": stages.cpu_seconds,
        "peak_rss_bytes": peak_rss_bytes(),
        "versions": _versions(),
        "strength": "equity against one uniformly random opponent hand (ties count half); "
                    "the stand-in for multiway pots, whatever num_players is",
    }
    atomic_write(json_path, json.dumps(summary, indent=2) + "\n")
    return BucketFiles(npz=npz_path, json=json_path, sha256=sha, summary=summary)


def _check_total(name: str, found: int, expected: int) -> None:
    """Every canonical hand of a round must be produced exactly once."""
    if found != expected:
        raise RuntimeError(f"{name}: {found} canonical hands enumerated, expected {expected}")


def _versions() -> dict[str, str]:
    import numba

    from holdem_lab import __version__

    return {"holdem_lab": __version__, "numpy": np.__version__, "numba": numba.__version__,
            "python": platform.python_version()}


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------

_ARRAY_ORDER: tuple[str, ...] = (
    "preflop", "flop", "turn", "river",
    "preflop_strength", "flop_strength", "turn_strength", "river_strength",
    "preflop_sizes", "flop_sizes", "turn_sizes", "river_sizes",
    "preflop_centroids", "flop_centroids", "turn_centroids",
    "river_bounds", "preflop_equity", "num_buckets",
)


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes, read in 8 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 23):
            digest.update(block)
    return digest.hexdigest()


def _write_npz(path: Path, arrays: list[tuple[str, np.ndarray]]) -> int:
    """Write arrays as an uncompressed ``.npz`` with fixed member order, timestamps and
    attributes (so equal arrays give equal bytes), atomically; returns the file size."""
    with atomic_file(path) as target, os.fdopen(target.fd, "wb", closefd=False) as raw:
        _write_zip(raw, arrays)
    return target.size


def _write_zip(raw: BinaryIO, arrays: list[tuple[str, np.ndarray]]) -> None:
    with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, array in arrays:
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            with zf.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.ascontiguousarray(array),
                                          allow_pickle=False)


def _expected_arrays(counts: tuple[int, ...], bins: int
                     ) -> dict[str, tuple[tuple[int, ...], str]]:
    """name -> (shape, dtype kinds allowed) of every array of a bucket file."""
    spec: dict[str, tuple[tuple[int, ...], str]] = {}
    for r, name in enumerate(ROUNDS):
        spec[name] = ((ROUND_SIZES[r],), "u")
        spec[f"{name}_strength"] = ((counts[r],), "f")
        spec[f"{name}_sizes"] = ((counts[r],), "iu")
        if name != "river":
            spec[f"{name}_centroids"] = ((counts[r], bins - 1), "f")
    spec["river_bounds"] = ((counts[3],), "iu")
    spec["preflop_equity"] = ((ROUND_SIZES[0],), "f")
    spec["num_buckets"] = ((4,), "iu")
    return spec


def _paths(path: str | Path) -> tuple[Path, Path]:
    """The npz and JSON files of a bucket file given as its directory, npz or JSON."""
    p = Path(path)
    if p.is_dir():
        return p / NPZ_NAME, p / JSON_NAME
    if p.suffix == ".json":
        return p.with_suffix(".npz"), p
    return p, p.with_suffix(".json")


def _read_meta(npz: Path, json_path: Path) -> dict[str, Any]:
    if npz.suffix.lower() in {".pkl", ".pickle"}:
        raise BucketError(f"{npz}: bucket files are never pickles; pass the directory "
                          "holdem-build-buckets wrote (buckets.npz and buckets.json)")
    if not npz.is_file():
        raise BucketError(f"bucket file not found: {npz}")
    if not json_path.is_file():
        raise BucketError(f"{json_path} is missing: a bucket file is only accepted with the "
                          "buckets.json written next to it (rebuild with holdem-build-buckets)")
    try:
        size = json_path.stat().st_size
        if size > _MAX_JSON_BYTES:
            raise BucketError(f"{json_path} is {size} bytes: too large for a bucket summary")
        meta = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BucketError(f"{json_path} is not readable JSON: {exc}") from None
    if not isinstance(meta, dict):
        raise BucketError(f"{json_path} does not hold a JSON object")
    if meta.get("format") != FORMAT:
        raise BucketError(f"{json_path}: unknown format {meta.get('format')!r} "
                          f"(expected {FORMAT!r})")
    for key, kind in (("config", dict), ("counts", dict), ("sha256", str), ("npz_bytes", int)):
        if not isinstance(meta.get(key), kind):
            raise BucketError(f"{json_path}: field {key!r} is missing or not a {kind.__name__}")
    return meta


def _check_header(zf: zipfile.ZipFile, name: str, expected: tuple[int, ...], kinds: str
                  ) -> None:
    """Refuse a member whose npy header is not a plain array of the expected shape and dtype
    kind, before any of its data is read (no object arrays: they would be pickles)."""
    info = zf.getinfo(f"{name}.npy")
    with zf.open(info) as member:
        try:
            shape, fortran, dtype = read_npy_header(member)
        except NpyVersionError as exc:
            raise BucketError(f"array {name!r} has {exc}") from None
        except ValueError as exc:
            raise BucketError(f"array {name!r} has a malformed npy header: {exc}") from None
        header_bytes = member.tell()
    if dtype.hasobject:
        raise BucketError(f"array {name!r} has dtype {dtype} (object arrays are pickles and "
                          "are refused)")
    if dtype.kind not in kinds or dtype.itemsize > 8:
        raise BucketError(f"array {name!r} has dtype {dtype}, expected kind {kinds!r}")
    if shape != expected:
        if len(shape) == 1 and len(expected) == 1:
            raise BucketError(f"array {name!r} has {shape[0]:,} entries, expected "
                              f"{expected[0]:,}")
        raise BucketError(f"array {name!r} has shape {shape}, expected {expected}")
    nbytes = math.prod(expected) * dtype.itemsize
    if fortran or info.file_size != header_bytes + nbytes:
        raise BucketError(f"array {name!r} holds {info.file_size - header_bytes} data bytes, "
                          f"expected {nbytes} in C order")


def load_buckets(path: str | Path) -> BucketTables:
    """Load and verify a bucket file (``buckets.npz`` or its directory); raises `BucketError`
    with a one-line reason for anything that does not verify.

    Checks, in order: both files present; the JSON parses and has the known format; the config
    is valid and its counts match; the npz has the recorded size and sha256; every member's npy
    header has the expected length and a plain numeric dtype (read before the data, so no
    absurd allocation and no pickle is ever loaded); the arrays load with
    ``allow_pickle=False``; every table value is below its round's bucket count.
    """
    npz, json_path = _paths(path)
    meta = _read_meta(npz, json_path)
    try:
        config = BucketConfig.from_mapping(meta["config"])
    except (ConfigError, TypeError) as exc:
        raise BucketError(f"{json_path}: invalid config: {exc}") from None
    counts = config.counts
    recorded = meta["counts"]
    if [recorded.get(name) for name in ROUNDS] != list(counts):
        raise BucketError(f"{json_path}: counts {recorded} do not match the config "
                          f"{dict(zip(ROUNDS, counts, strict=True))}")
    spec = _expected_arrays(counts, config.histogram_bins)
    limit = sum(math.prod(shape) * 8 + 4096 for shape, _ in spec.values()) + (1 << 16)
    size = npz.stat().st_size
    if meta["npz_bytes"] > limit:
        raise BucketError(f"{json_path}: npz_bytes={meta['npz_bytes']} exceeds the largest "
                          f"possible bucket file ({limit} bytes)")
    if size < meta["npz_bytes"]:
        raise BucketError(f"{npz} is truncated: {size} bytes, {json_path.name} records "
                          f"{meta['npz_bytes']}")
    if size != meta["npz_bytes"]:
        raise BucketError(f"{npz} is {size} bytes, {json_path.name} records {meta['npz_bytes']}")
    sha = file_sha256(npz)
    if sha != meta["sha256"]:
        raise BucketError(f"{npz} was modified: its sha256 is {sha}, {json_path.name} records "
                          f"{meta['sha256']}")
    try:
        with zipfile.ZipFile(npz) as zf:
            names = sorted(zf.namelist())
            expected = sorted(f"{name}.npy" for name in spec)
            if names != expected:
                missing = sorted(set(expected) - set(names))
                extra = sorted(set(names) - set(expected))
                raise BucketError(f"{npz} has the wrong members: missing {missing}, "
                                  f"unexpected {extra}")
            for name, (shape, kinds) in spec.items():
                _check_header(zf, name, shape, kinds)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise BucketError(f"{npz} is not a readable npz archive: {exc}") from None
    try:
        with np.load(npz, allow_pickle=False) as data:
            arrays = {name: data[name] for name in spec}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise BucketError(f"{npz} could not be loaded: {exc}") from None
    for r, name in enumerate(ROUNDS):
        table = arrays[name]
        top = int(table.max())
        if top >= counts[r]:
            raise BucketError(f"table {name!r} holds bucket {top}, but {name} has "
                              f"{counts[r]} buckets (ids 0..{counts[r] - 1})")
    if arrays["num_buckets"].tolist() != list(counts):
        raise BucketError(f"array 'num_buckets' is {arrays['num_buckets'].tolist()}, the "
                          f"config says {list(counts)}")
    for r, name in enumerate(ROUNDS):
        sizes = arrays[f"{name}_sizes"]
        if int(sizes.sum()) != ROUND_SIZES[r] or int(sizes.min()) < 0:
            raise BucketError(f"array '{name}_sizes' does not add up to {ROUND_SIZES[r]:,} hands")
    return BucketTables(
        tables=(arrays["preflop"], arrays["flop"], arrays["turn"], arrays["river"]),
        counts=counts,
        sha256=sha,
        config=config,
        strength=tuple(arrays[f"{name}_strength"] for name in ROUNDS),
        sizes=tuple(arrays[f"{name}_sizes"] for name in ROUNDS),
        river_bounds=arrays["river_bounds"],
        preflop_equity=arrays["preflop_equity"],
        centroids=(arrays["preflop_centroids"], arrays["flop_centroids"],
                   arrays["turn_centroids"]),
        path=npz,
        meta=meta,
    )


def buckets_up_to_date(out_dir: str | Path, config: BucketConfig) -> str | None:
    """The sha256 of ``out_dir``'s bucket file when its JSON records exactly ``config`` and the
    file verifies (`load_buckets`), else None."""
    npz, json_path = _paths(Path(out_dir) / NPZ_NAME)
    try:
        meta = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(meta, dict) or meta.get("config") != config.to_dict():
        return None
    try:
        return load_buckets(npz).sha256
    except BucketError:
        return None
