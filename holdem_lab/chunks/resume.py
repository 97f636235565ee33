"""What may change between chunks of one run, and what may not.

A run is defined by its game (name, parameters, bucket hash, tree layout) and by every setting
that changes the arithmetic of training. Changing any of those would silently corrupt the run, so
resuming refuses with both values. Totals, chunk sizes, checkpoint and logging intervals only
decide when things happen; changing them is accepted and recorded in the metadata.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from holdem_lab.checkpoint import LoadedCheckpoint
from holdem_lab.chunks.metadata import (
    RunHistory,
    check_resume_fields,
    platform_record,
    rng_state_from_json,
)
from holdem_lab.config import MCCFRConfig
from holdem_lab.errors import CheckpointError, ResumeMismatchError
from holdem_lab.games import Game
from holdem_lab.solver import Solver

# Settings that may differ from one chunk to the next.
SAFE_FIELDS: frozenset[str] = frozenset({
    "num_iterations", "time_budget_seconds", "checkpoint_interval", "snapshot_interval_seconds",
    "tensorboard_log_interval", "exploitability_interval", "evaluation_deal_pairs", "lbr_hands",
    "enable_chunked_training",
    "chunk_size_iterations", "chunk_size_minutes", "num_workers", "ray_address",
})

# Settings compared by what they resolve to (`engine: auto` and a batch size left to the rule
# may name the same engine as an explicit one), in the checkpoint's `engine` record.
ENGINE_FIELDS: frozenset[str] = frozenset({"engine", "batch_iterations", "shards"})

# Outcome-sampling exploration: external sampling never explores off-policy, so under it these
# only describe the run and may change like the safe fields.
EXPLORATION_FIELDS: frozenset[str] = frozenset({"exploration_epsilon", "epsilon_schedule"})


def safe_fields(saved: dict[str, Any], current: MCCFRConfig) -> frozenset[str]:
    """The settings that may change between these two chunks: :data:`SAFE_FIELDS`, and the
    exploration settings when both chunks use external sampling."""
    if saved.get("sampling") == current.sampling == "external":
        return SAFE_FIELDS | EXPLORATION_FIELDS
    return SAFE_FIELDS


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


def adopt_engine(meta: dict[str, Any], config: MCCFRConfig, solver: Solver,
                 say: Callable[[str], None]) -> None:
    """Under `engine: auto` with the batch left to the rules, continue with the engine the run
    was started with (recorded in its checkpoint), not the one this version's rules pick; and a
    sequential run with the random stream it was started with (no setting chooses it)."""
    saved = meta.get("engine")
    if not isinstance(saved, dict) or saved == solver.engine_info():
        return
    stream_only = saved.get("name") == "sequential" == solver.engine
    if not stream_only and (config.engine != "auto" or config.batch_iterations is not None
                            or config.shards is not None):
        return
    try:
        solver.adopt_engine(saved)
    except ValueError as exc:
        raise ResumeMismatchError(f"cannot continue the run's engine: {exc}") from None
    if stream_only:
        say(f"Continuing with the random stream the run was started with: "
            f"{saved.get('streams')}")
    else:
        say(f"Continuing with the engine the run was started with: {saved.get('name')}")


def check_engine(meta: dict[str, Any], solver: Solver) -> None:
    """Refuse to resume with another engine, batch, shard count or stream scheme: each changes
    every later iteration. A checkpoint from before the sharded engine names the flag that
    continues it."""
    saved = meta.get("engine")
    if saved == solver.engine_info():
        return
    if isinstance(saved, dict) and saved.get("name") == "sequential":
        raise ResumeMismatchError(
            "this run was trained by the sequential engine (one random stream); continue it "
            "with --engine sequential or --engine auto (in YAML, engine: sequential or auto), "
            "or start a new run to use the sharded engine")
    raise ResumeMismatchError(
        f"engine mismatch: the checkpoint was trained with {saved!r}, the current run would use "
        f"{solver.engine_info()!r}; batch_iterations, shards and the engine are part of a run "
        "(the worker count is not)")


def check_platform(saved: object, say: Callable[[str], None]) -> None:
    """Say so when the numba/llvmlite/numpy versions or the CPU differ from the checkpoint's:
    the run continues correctly, but its bits are promised only for the same platform."""
    if not isinstance(saved, dict):
        return
    now = platform_record()
    differ = [f"{key} {saved.get(key)!r} -> {now[key]!r}" for key in now
              if saved.get(key) != now[key]]
    if differ:
        say("Note: the platform changed since the checkpoint (" + ", ".join(differ) + "); "
            "training continues correctly, but the same bits as an uninterrupted run are "
            "promised only for the same versions and CPU type")


def check_config(saved: dict[str, Any], current: MCCFRConfig) -> dict[str, list[Any]]:
    """Refuse unsafe changes; return the safe ones as {field: [old, new]}."""
    now = current.to_dict()
    safe = safe_fields(saved, current)
    saved = dict(saved)
    for key in ENGINE_FIELDS:  # compared as the engine they resolve to, by check_engine
        saved.pop(key, None)
        now.pop(key, None)
    changes: dict[str, list[Any]] = {}
    for key in sorted(set(saved) | set(now)):
        old, new = saved.get(key), now.get(key)
        if old == new:
            continue
        if key in safe:
            changes[key] = [old, new]
            continue
        raise ResumeMismatchError(
            f"config mismatch in {key}: checkpoint has {old!r}, current run has {new!r}; "
            f"this setting changes the training itself (only {', '.join(sorted(safe))} "
            "may change between chunks)")
    return changes


def restore(loaded: LoadedCheckpoint, game: Game, config: MCCFRConfig, solver: Solver,
            say: Callable[[str], None]) -> RunHistory:
    """Put ``solver`` exactly where the checkpoint left it and return the run's history, after
    refusing a checkpoint that does not belong to this game and config (see the module
    docstring). Setting changes that are allowed are printed and recorded."""
    latest = loaded.info
    meta = loaded.metadata
    check_resume_fields(latest, meta)
    check_game(meta["game_identity"], game.identity())
    adopt_engine(meta, config, solver, say)
    check_engine(meta, solver)
    changes = check_config(meta["config"], config)
    check_platform(meta.get("platform"), say)
    config_changes = list(meta.get("config_changes", []))
    if changes:
        config_changes.append({"iteration": loaded.iteration, "changes": changes})
        for key, (old, new) in changes.items():
            say(f"Setting changed since the last chunk: {key}: {old!r} -> {new!r}")
    state: dict[str, Any] = dict(loaded.state)
    try:
        stats = state.get("stats", solver.stats)  # the kernel writes it without bounds checks
        if stats.shape != solver.stats.shape or stats.dtype != solver.stats.dtype:
            raise ValueError(f"stats: shape {stats.shape} dtype {stats.dtype}, expected "
                             f"{solver.stats.shape} {solver.stats.dtype}")
        state.update(iteration=meta["iteration"], discount_steps=meta["discount_steps"],
                     discount_window_start=meta["discount_window_start"],
                     rng_state=rng_state_from_json(meta["rng_state"]),
                     compute_seconds=float(meta["compute_seconds"]))
        solver.load_state_dict(state, copy=False)
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as exc:
        detail = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
        raise CheckpointError(f"{latest.directory / latest.stem}: cannot restore the "
                              f"solver state from it: {detail}") from exc
    return RunHistory(checkpoint=latest, chunk_index=meta["chunk_index"] + 1,
                      previous_elapsed=float(meta["elapsed_seconds"]),
                      chunks=list(meta.get("chunks", [])), config_changes=config_changes)
