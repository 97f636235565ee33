"""`holdem-train-blueprint`: train a blueprint with MCCFR, one chunk per invocation in chunked
mode. Settings come from defaults, then the YAML file given with --config, then the flags."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from holdem_lab.chunks.runner import ChunkStatus, run_chunk
from holdem_lab.chunks.signals import GracefulStop
from holdem_lab.cli import ArgumentParser, count, exit_codes, fail, positive_count, run_command
from holdem_lab.config import (
    FIELD_FLAGS,
    SETTING_FLAGS,
    GameSpec,
    MCCFRConfig,
    config_default,
    config_from_mapping,
    load_yaml_mapping,
)
from holdem_lab.rundir import RunDir

PROG = "holdem-train-blueprint"

DESCRIPTION = """\
Train a poker blueprint with Monte Carlo CFR.

In chunked mode (--chunked) each invocation runs one chunk: it resumes from the newest complete
checkpoint in LOGDIR/checkpoints (or starts fresh), trains until the chunk limit
(--chunk-iterations and/or --chunk-minutes, whichever comes first) or the total (--iters and/or
--time-budget), writes a checkpoint (policy .npz, _metadata.json, _regrets.npz), flushes
TensorBoard logs to LOGDIR/tensorboard and exits, so memory is released between chunks. Run the
same command again to continue; a run is reproducible bit for bit however it is chunked.
"""

EXAMPLES = """\
examples:
  holdem-train-blueprint --game leduc --logdir runs/leduc --iters 1000000 \\
      --chunked --chunk-iterations 100000
  while holdem-train-blueprint --config run.yaml --logdir runs/x --chunked; do :; done
"""


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=DESCRIPTION,
        epilog=EXAMPLES + "\n" + exit_codes.epilog(meanings={
            exit_codes.CHUNK_DONE: "chunk done, training not complete: run the same command "
                                   "again"}),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logdir", required=True,
                        help="run directory (checkpoints/ and tensorboard/ go inside)")
    parser.add_argument("--config", help="YAML file of settings (flags override it)")
    parser.add_argument("--game", help="kuhn, leduc or holdem (default: holdem with --buckets, "
                        "otherwise leduc)")
    parser.add_argument("--buckets", help="Hold'em bucket directory from holdem-build-buckets "
                        "(or its buckets.npz, with buckets.json beside it)")
    parser.add_argument("--num-players", type=int,
                        help="number of players" + _default("num_players"))
    group = parser.add_argument_group("totals (training is complete when either is reached)")
    group.add_argument("--iters", type=count, help="total iterations")
    group.add_argument("--time-budget", type=float, help="total training seconds, all chunks")
    group = parser.add_argument_group("chunks")
    group.add_argument("--chunked", action="store_true", default=None,
                       help="run one chunk and exit")
    group.add_argument("--chunk-iterations", type=count, help="iterations per chunk")
    group.add_argument("--chunk-minutes", type=float, help="minutes per chunk")
    group.add_argument("--checkpoint-interval", type=count,
                       help="also checkpoint every N iterations within a chunk")
    group.add_argument("--snapshot-interval", type=float,
                       help="also checkpoint every S seconds within a chunk")
    group.add_argument("--keep-last", type=int,
                       help="keep only the newest N complete checkpoints (default: keep all)")
    group = parser.add_argument_group("MCCFR")
    group.add_argument("--sampling", choices=["external", "outcome"],
                       help="MCCFR sampling scheme" + _default("sampling"))
    group.add_argument("--epsilon", type=float,
                       help="outcome-sampling exploration (no effect under external sampling)"
                            + _default("exploration_epsilon"))
    group.add_argument("--seed", type=int, help="random seed" + _default("seed"))
    group.add_argument("--table-dtype", choices=["float64", "float32"],
                       help="entries of the regret table: float32 halves it (strategy sums "
                            "stay float64)" + _default("table_dtype"))
    group.add_argument("--average-rounds", type=int, nargs="+", metavar="ROUND",
                       help="keep strategy sums only on these betting rounds (0 preflop .. 3 "
                            "river; Hold'em): the blueprint plays the current strategy on the "
                            "others (default: every round)")
    group = parser.add_argument_group(
        "parallel training (the same tables bit for bit for any number of workers)")
    group.add_argument("--workers", type=positive_count, metavar="N",
                       help="threads that train (default: every core this process may use); "
                            "may change between chunks")
    group.add_argument("--engine", choices=["sharded", "sequential"],
                       help="sharded: batches of shards merged in a fixed order, on any number "
                            "of workers; sequential: one stream, one core"
                            + _default("engine"))
    group.add_argument("--batch-iterations", type=positive_count, metavar="N",
                       help="iterations per batch of the sharded engine (default: chosen from "
                            "the game's infoset count)")
    group.add_argument("--shards", type=positive_count, metavar="N",
                       help="shards per batch, at least the most workers the run will use "
                            "(default: chosen with the batch)")
    group.add_argument("--ray-address", metavar="auto|HOST:PORT",
                       help="run the shards of each batch on the nodes of this running Ray "
                            "cluster (auto: the one this machine belongs to); the same tables "
                            "bit for bit as on one machine, and may change between chunks "
                            "(needs the ray extra: pip install 'holdem_lab[ray]')")
    group = parser.add_argument_group("discounting")
    group.add_argument("--discount-mode", choices=["none", "linear", "dcfr"],
                       help="regret and strategy-sum discounting" + _default("discount_mode"))
    group.add_argument("--discount-interval", type=count,
                       help="iterations between discounts" + _default("discount_interval"))
    group.add_argument("--dcfr-alpha", type=float,
                       help="DCFR exponent of positive regrets" + _default("dcfr_alpha"))
    group.add_argument("--dcfr-beta", type=float,
                       help="DCFR exponent of negative regrets" + _default("dcfr_beta"))
    group.add_argument("--dcfr-gamma", type=float,
                       help="DCFR exponent of the strategy sum" + _default("dcfr_gamma"))
    group = parser.add_argument_group("pruning")
    group.add_argument("--pruning", action=argparse.BooleanOptionalAction, default=None,
                       help="Pluribus-style regret pruning" + _default("enable_pruning"))
    group.add_argument("--prune-warmup", type=count, metavar="N",
                       help="iterations before pruning starts"
                            + _default("prune_warmup_iterations"))
    group.add_argument("--prune-threshold", type=float,
                       help="regret (chips) below which an action is skipped in a pruned "
                            "iteration" + _default("prune_threshold"))
    group.add_argument("--prune-probability", type=float,
                       help="share of iterations pruned after the warm-up"
                            + _default("prune_probability"))
    group.add_argument("--regret-floor", type=float,
                       help="lower bound of regrets, so pruned actions can recover "
                            "(default: none)")
    group = parser.add_argument_group("logging")
    group.add_argument("--no-tensorboard", action="store_true", help="do not write TensorBoard")
    group.add_argument("--tensorboard-interval", type=count,
                       help="iterations between scalars" + _default("tensorboard_log_interval"))
    group.add_argument("--exploitability-interval", type=count,
                       help="iterations between exact exploitability logs (Kuhn, Leduc)")
    group.add_argument("--lbr-hands", type=count,
                       help="duplicate deal pairs of the local best response at the end of each "
                            "heads-up Hold'em chunk, 0 for none" + _default("lbr_hands"))
    group.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--print-sbatch", action="store_true",
                        help="print the #SBATCH lines of this run's Slurm jobs (chain name, "
                             "memory from the solver's sizing, CPUs) and exit without training "
                             "(scripts/slurm/submit.sh uses them)")
    # The guide names a multi-instance mode that chunked training excludes; there is none here,
    # and the flag gets an explanation instead of argparse's "unrecognized arguments".
    parser.add_argument("--num-instances", nargs="?", const="", help=argparse.SUPPRESS)
    return parser


def _sbatch_lines(logdir: str, spec: GameSpec, config: MCCFRConfig) -> list[str]:
    from holdem_lab.cli.sbatch import bucket_file_bytes, cpus_per_task, sbatch_lines
    from holdem_lab.games import build_game
    from holdem_lab.solver.solver import strategy_layout

    spec = RunDir(logdir).with_buckets_found(spec)
    game = build_game(spec)
    return sbatch_lines(game, logdir, bucket_file_bytes(spec), cpus_per_task(config, game),
                        config.table_dtype, strategy_layout(game, config.average_rounds)[1])


def _default(field: str) -> str:
    """`` (default: X)`` for a help text, from MCCFRConfig itself (the one source)."""
    value = config_default(field)
    return f" (default: {str(value).lower() if isinstance(value, bool) else value})"


def settings_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Merge in order: YAML file, then flags."""
    values: dict[str, Any] = load_yaml_mapping(args.config) if args.config else {}
    for row in SETTING_FLAGS:
        value = getattr(args, row.dest)
        if value is not None:
            values[row.field] = value
    return values


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(PROG, lambda: _train(build_parser().parse_args(argv)),
                       field_flags=FIELD_FLAGS)


def _train(args: argparse.Namespace) -> int:
    if args.num_instances is not None:
        return fail(PROG, exit_codes.USAGE, "--num-instances: there is no multi-instance mode; "
                    "a chunk is one process that trains on --workers threads (train several "
                    "runs in parallel with several logdirs)")
    spec, config = config_from_mapping(settings_from_args(args))
    if config.sampling == "external" and args.epsilon is not None:
        print("Note: epsilon only acts in outcome sampling; under external sampling it is "
              "recorded and has no effect", flush=True)
    if args.print_sbatch:
        print("\n".join(_sbatch_lines(args.logdir, spec, config)))
        return exit_codes.CHUNK_DONE
    # Signals stop the training after a checkpoint (exit 8) instead of raising KeyboardInterrupt.
    graceful = GracefulStop().install()
    try:
        result = run_chunk(args.logdir, spec, config, keep_last=args.keep_last,
                           tensorboard=not args.no_tensorboard, progress=not args.no_progress,
                           graceful=graceful)
    finally:
        graceful.uninstall()  # an in-process caller gets its own handlers back
    if result.status is ChunkStatus.COMPLETE:
        return exit_codes.COMPLETE
    if result.status is ChunkStatus.STOPPED:
        return exit_codes.STOPPED
    return exit_codes.CHUNK_DONE


if __name__ == "__main__":
    sys.exit(main())
