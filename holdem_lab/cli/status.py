"""`holdem-lab status RUN`: where a run stands, from its newest checkpoint's metadata and the
run lock, without loading any payload or disturbing a chunk that is training."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from holdem_lab.chunks.plan import ChunkPlan
from holdem_lab.config import MCCFRConfig
from holdem_lab.errors import CheckpointError, ConfigError
from holdem_lab.rundir import RunDir, summarize_problems


def disk_bytes(root: Path) -> int:
    """Bytes of the regular files under ``root`` (links are not followed)."""
    total = 0
    for directory, _, files in os.walk(root):
        for name in files:
            try:
                info = os.lstat(os.path.join(directory, name))
            except OSError:
                continue  # removed meanwhile (a chunk pruning old checkpoints)
            total += info.st_size
    return total


def _size(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:,.0f} {unit}" if unit == "B" else f"{count:,.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _progress(meta: dict[str, Any]) -> list[str]:
    """Iteration, share done and ETA, and speed, from a checkpoint's metadata."""
    iteration = int(meta["iteration"])
    elapsed = float(meta.get("elapsed_seconds", 0.0))
    try:
        config = MCCFRConfig(**meta["config"])
    except (ConfigError, TypeError, KeyError) as exc:
        raise CheckpointError(f"the newest checkpoint's config is unusable: {exc}") from None
    plan = ChunkPlan.for_chunk(config, iteration, elapsed)
    chunks = meta.get("chunks") or []
    speed = float(chunks[-1].get("iterations_per_second") or 0.0) if chunks else 0.0
    lines = []
    done = plan.why_complete_at_start()
    shares, remaining = [], []
    if config.num_iterations is not None:
        shares.append(iteration / config.num_iterations)
        if speed > 0:
            remaining.append(max(config.num_iterations - iteration, 0) / speed)
    if config.time_budget_seconds is not None:
        shares.append(elapsed / config.time_budget_seconds)
        remaining.append(max(config.time_budget_seconds - elapsed, 0.0))
    head = f"iteration: {iteration:,}"
    if config.num_iterations is not None:
        head += f" of {config.num_iterations:,}"
    if shares:
        head += f" ({min(max(shares), 1.0):.1%} done)"
    lines.append(head + f", after {len(chunks)} chunk{'s' if len(chunks) != 1 else ''} and "
                        f"{_duration(elapsed)} of training")
    if done is not None:
        lines.append(f"complete: {done}")
    elif remaining:
        lines.append(f"ETA: {_duration(min(remaining))} of training left"
                     + (" at the last chunk's speed" if speed > 0 else ""))
    else:
        lines.append(f"ETA: unknown (no total: {plan.totals() or 'none'})")
    if speed > 0:
        lines.append(f"speed: {speed:,.0f} iterations/s in the last chunk"
                     + _engine_words(meta))
    return lines


def _engine_words(meta: dict[str, Any]) -> str:
    """How the sharded engine trained the last chunk (nothing for the sequential one)."""
    engine = meta.get("engine")
    if not isinstance(engine, dict) or engine.get("name") != "sharded":
        return ""
    workers = (meta.get("metrics") or {}).get("workers")
    on = f" on {workers} worker{'s' if workers != 1 else ''}" if isinstance(workers, int) else ""
    return (f"{on} (sharded engine, batches of {engine.get('batch_iterations')} in "
            f"{engine.get('shards')} shards)")


def _results(records: list[Any]) -> list[str]:
    """The newest exact exploitability (Kuhn, Leduc) or matches against baselines (Hold'em)."""
    for record in reversed(records):
        meta = record.metadata
        value = (meta.get("metrics") or {}).get("exploitability")
        if isinstance(value, int | float):
            return [f"exploitability: {value:.6g} (exact) at iteration {record.iteration:,}"]
        matches = meta.get("evaluation")
        if isinstance(matches, dict) and matches:
            lines = [f"matches at iteration {record.iteration:,} (mbb/hand, 95% CI):"]
            for baseline, match in matches.items():
                try:
                    mbb, ci = float(match["mbb_per_hand"]), float(match["ci95_mbb"])
                    lines.append(f"  blueprint vs {baseline}: {mbb:+.1f} ({mbb - ci:+.1f} .. "
                                 f"{mbb + ci:+.1f}, {int(match['deal_pairs']):,} deal pairs)")
                except (KeyError, TypeError, ValueError):
                    continue
            return lines
    return ["exploitability / matches: none recorded yet"]


def describe_run(path: str | os.PathLike[str]) -> list[str]:
    """The lines ``holdem-lab status`` prints for the run in ``path``."""
    run = RunDir(Path(path).expanduser().absolute())
    if not run.root.is_dir():
        raise CheckpointError(f"{run.root} does not exist or is not a directory")
    records, problems = run.records()
    lines = [f"run: {run.root}"]
    if records:
        newest = records[-1]
        lines.append(f"newest checkpoint: {newest.info.policy_path.name}")
        lines += _progress(newest.metadata)
        lines += _results(records)
    else:
        lines.append("no checkpoint yet")
    if problems:
        lines.append(f"skipped: {summarize_problems(problems)}")
    lines.append(f"disk used: {_size(disk_bytes(run.root))}")
    holder = run.lock_holder()
    lines.append(f"training now: {holder} holds the run lock" if holder
                 else "training now: no (nobody holds the run lock)")
    driver = run.driver_lock_holder()
    if driver:
        lines.append(f"notebook driver: {driver} holds the driver lock")
    return lines
