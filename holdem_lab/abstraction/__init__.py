"""Card abstraction for Hold'em: bucket tables keyed by the suit-isomorphic hand index.

* `holdem_lab.abstraction.buckets` -- `BucketConfig`, `build_buckets` (writes ``buckets.npz``
  and ``buckets.json``), `load_buckets` (verifies and returns `BucketTables`).
* `holdem_lab.abstraction.features` -- numba kernels: exact river hand strength per canonical
  board, distribution-aware histograms of next-round strength for the turn and flop.
* `holdem_lab.abstraction.kmeans` -- deterministic k-means (k-means++ seeding, Hamerly's
  bounds) and optimal one-dimensional k-means.

The engine maps a deal to its bucket with one lookup per round::

    tables = load_buckets("buckets/")
    bucket = tables[round][index_kernel(cards, round)]   # cards: hole cards, then the board

Importing this package is cheap: the numba kernels load when a build starts.
"""

from __future__ import annotations

from holdem_lab.abstraction.buckets import (
    JSON_NAME,
    NPZ_NAME,
    ROUND_SIZES,
    ROUNDS,
    BucketConfig,
    BucketFiles,
    BucketTables,
    buckets_up_to_date,
    build_buckets,
    load_bucket_config,
    load_buckets,
)

__all__ = [
    "JSON_NAME",
    "NPZ_NAME",
    "ROUNDS",
    "ROUND_SIZES",
    "BucketConfig",
    "BucketFiles",
    "BucketTables",
    "build_buckets",
    "buckets_up_to_date",
    "load_bucket_config",
    "load_buckets",
]
