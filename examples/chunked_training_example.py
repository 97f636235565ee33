"""Chunked training from Python, end to end, on Leduc hold'em.

    python examples/chunked_training_example.py [--logdir DIR] [--iters N] [--chunk-iterations N]

1. Describe the run with ``MCCFRConfig`` and save it as the flat YAML file that
   ``holdem-train-blueprint --config`` reads.
2. Run one chunk per fresh process until the command reports the run complete (exit code 3),
   as ``while holdem-train-blueprint ...; do :; done`` does in a shell.
3. Read the newest checkpoint: what each chunk did, and the exact exploitability of the
   average strategy.
4. Train the same run in one piece in this process, and check that the chunked run reached
   the very same regrets, strategy sums and random-generator state.

Without ``--logdir`` each run trains in a new temporary directory (printed, and kept for a
look). With ``--logdir``, run it again and it finds the run complete; raise ``--iters`` to
extend it (the total may change on resume, the game and solver settings may not).
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

from holdem_lab import MCCFRConfig, Solver, exploitability, load_game
from holdem_lab.checkpoint import find_latest_complete, load_checkpoint
from holdem_lab.chunks.runner import rng_state_from_json
from holdem_lab.cli import exit_codes
from holdem_lab.config import GameSpec


def run_config(iterations: int, chunk_iterations: int) -> tuple[GameSpec, MCCFRConfig]:
    """The run: Leduc, external sampling, linear discounting, chunks of fixed size."""
    spec = GameSpec(game="leduc")
    config = MCCFRConfig(
        num_iterations=iterations,
        enable_chunked_training=True,
        chunk_size_iterations=chunk_iterations,
        discount_mode="linear",
        discount_interval=1_000,
        exploitability_interval=chunk_iterations,
        seed=7,
    )
    return spec, config


def train_in_chunks(logdir: Path, spec: GameSpec, config: MCCFRConfig) -> None:
    """Run chunks in fresh processes until the command reports training complete."""
    config_file = logdir / "run.yaml"
    logdir.mkdir(parents=True, exist_ok=True)
    config_file.write_text(yaml.safe_dump({**spec.to_dict(), **config.to_dict()}))
    command = [sys.executable, "-m", "holdem_lab.cli.train", "--config", str(config_file),
               "--logdir", str(logdir), "--no-progress"]
    for process in itertools.count(1):
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        lines = result.stdout.strip().splitlines()
        print(f"  process {process}: exit code {result.returncode} ({lines[-1] if lines else ''})")
        if result.returncode == exit_codes.COMPLETE:
            return
        if result.returncode not in (exit_codes.CHUNK_DONE, exit_codes.STOPPED):
            sys.exit(f"holdem-train-blueprint failed:\n{result.stderr}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", type=Path, default=None,
                        help="run directory (default: a new temporary directory, kept)")
    parser.add_argument("--iters", type=int, default=200_000, help="total iterations")
    parser.add_argument("--chunk-iterations", type=int, default=50_000,
                        help="iterations per chunk (one process each)")
    args = parser.parse_args(argv)
    logdir = args.logdir or Path(tempfile.mkdtemp(prefix="chunked_example_"))
    spec, config = run_config(args.iters, args.chunk_iterations)

    print(f"Training Leduc for {args.iters:,} iterations in chunks of "
          f"{args.chunk_iterations:,} in {logdir}")
    train_in_chunks(logdir, spec, config)

    info, problems = find_latest_complete(logdir / "checkpoints")
    if info is None:
        sys.exit(f"no complete checkpoint in {logdir}: {problems}")
    checkpoint = load_checkpoint(info)
    meta = checkpoint.metadata
    print(f"\nNewest checkpoint: iteration {meta['iteration']:,}, "
          f"{meta['elapsed_seconds']:.1f} s of training in {len(meta['chunks'])} chunks")
    print(f"  {'chunk':>5} {'iterations':>21} {'seconds':>8} {'peak RSS MiB':>13}")
    for chunk in meta["chunks"]:
        span = f"{chunk['start_iteration']:,}-{chunk['end_iteration']:,}"
        print(f"  {chunk['chunk_index']:>5} {span:>21} {chunk['seconds']:>8.2f} "
              f"{chunk['peak_rss_bytes'] / 2**20:>13.0f}")
    game = load_game("leduc")
    value = exploitability(game, checkpoint.policy["average_policy"])
    print(f"  exploitability of the average strategy: {value:.5f} (chips per hand)")

    print(f"\nTraining the same {meta['iteration']:,} iterations in one piece...")
    solver = Solver(game, config)
    solver.run(meta["iteration"])
    same = (np.array_equal(solver.regrets, checkpoint.state["regrets"])
            and np.array_equal(solver.strategy_sum, checkpoint.state["strategy_sum"])
            and np.array_equal(solver.average_policy(), checkpoint.policy["average_policy"])
            and rng_state_from_json(meta["rng_state"]) == solver.rng_state())
    print("  chunked == unchunked, bit for bit:", same)
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
