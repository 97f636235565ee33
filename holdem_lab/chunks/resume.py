"""What may change between chunks of one run, and what may not.

A run is defined by its game (name, parameters, bucket hash, tree layout) and by every setting
that changes the arithmetic of training. Changing any of those would silently corrupt the run, so
resuming refuses with both values. Totals, chunk sizes, checkpoint and logging intervals only
decide when things happen; changing them is accepted and recorded in the metadata.
"""

from __future__ import annotations

from typing import Any

from holdem_lab.config import MCCFRConfig
from holdem_lab.errors import ResumeMismatchError

# Settings that may differ from one chunk to the next.
SAFE_FIELDS: frozenset[str] = frozenset({
    "num_iterations", "time_budget_seconds", "checkpoint_interval", "snapshot_interval_seconds",
    "tensorboard_log_interval", "exploitability_interval", "evaluation_deal_pairs",
    "enable_chunked_training",
    "chunk_size_iterations", "chunk_size_minutes", "num_workers",
})


def check_game(saved: dict[str, Any], current: dict[str, Any]) -> None:
    """Refuse to resume when the game differs; the bucket hash is named first."""
    if saved.get("bucket_hash") != current.get("bucket_hash"):
        raise ResumeMismatchError(
            f"bucket file mismatch: the checkpoint was trained with buckets "
            f"{saved.get('bucket_hash')}, the current buckets are {current.get('bucket_hash')}")
    for key in ("game", "params", "layout_sha256", "num_rows"):
        if saved.get(key) != current.get(key):
            raise ResumeMismatchError(
                f"game mismatch in {key}: checkpoint has {saved.get(key)!r}, "
                f"current run has {current.get(key)!r}")


def check_config(saved: dict[str, Any], current: MCCFRConfig) -> dict[str, list[Any]]:
    """Refuse unsafe changes; return the safe ones as {field: [old, new]}."""
    now = current.to_dict()
    changes: dict[str, list[Any]] = {}
    for key in sorted(set(saved) | set(now)):
        old, new = saved.get(key), now.get(key)
        if old == new:
            continue
        if key in SAFE_FIELDS:
            changes[key] = [old, new]
            continue
        raise ResumeMismatchError(
            f"config mismatch in {key}: checkpoint has {old!r}, current run has {new!r}; "
            f"this setting changes the training itself (only {', '.join(sorted(SAFE_FIELDS))} "
            "may change between chunks)")
    return changes
