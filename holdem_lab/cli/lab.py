"""`holdem-lab`: the Jupyter side of holdem_lab from the command line.

`holdem-lab chunks` trains a run to completion one chunk at a time, each chunk being
notebooks/chunk.ipynb executed by papermill in a fresh kernel (see holdem_lab.lab.driver), then
executes notebooks/analysis.ipynb. `holdem-lab analyze` executes only the analysis.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from holdem_lab.cli import ArgumentParser, exit_codes, positive_count, run_command
from holdem_lab.config import SETTING_FLAGS

PROG = "holdem-lab"

DESCRIPTION = """\
Train and analyse poker blueprints through Jupyter notebooks.

chunks   train a run to completion, one chunk per fresh kernel: each chunk executes
         notebooks/chunk.ipynb with papermill (resume from the newest complete checkpoint,
         train one chunk, checkpoint) and the executed notebook is kept next to the checkpoint
         it wrote (RUN/checkpoints/checkpoint_iter<N>.ipynb). Then notebooks/analysis.ipynb
         is executed and saved with its figures in RUN/analysis/.
analyze  execute only the analysis notebook for a run.
status   where a run stands: iteration, share done and ETA, speed, the last exploitability or
         matches, disk used, and whether a process is training it now.
size     how big a config's game is, counted before anything is built: nodes, infosets,
         memory, and the #SBATCH --mem/--cpus-per-task lines.
"""

CHUNKS_DESCRIPTION = """\
Train the run in RUN_DIR with the settings of CONFIG until it is complete (or for at most
--max-chunks chunks), one chunk notebook per fresh kernel, then execute the analysis notebook.

Ctrl-C stops the running chunk after the iteration in progress, with a checkpoint (exit 8); a
second Ctrl-C aborts at once. Interrupted or failed, run the same command again: it continues
from the last complete checkpoint. A failed chunk's executed notebook (with the error) is kept
in RUN_DIR/failed/.
"""

CHUNKS_EXAMPLES = """\
examples:
  holdem-lab chunks --config holdem_lab/configs/leduc_small.yaml --run runs/leduc_small
  holdem-lab chunks --config run.yaml --run runs/x --max-chunks 2   # two chunks, then stop
"""

def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{value:g} must be > 0")
    return value


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--notebooks", metavar="DIR",
                        help="directory holding chunk.ipynb and analysis.ipynb "
                             "(default: notebooks/ of this checkout)")
    parser.add_argument("--kernel", default="python3",
                        help="Jupyter kernel to execute the notebooks with (default: python3)")


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog=PROG, description=DESCRIPTION,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    chunks = commands.add_parser(
        "chunks", help="train a run chunk by chunk through the chunk notebook",
        description=CHUNKS_DESCRIPTION, epilog=CHUNKS_EXAMPLES + "\n" + _epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    chunks.add_argument("--config", required=True, metavar="CONFIG",
                        help="YAML run config (flat keys, as holdem-train-blueprint reads)")
    chunks.add_argument("--run", required=True, metavar="RUN_DIR",
                        help="run directory (checkpoints/, tensorboard/, analysis/ inside)")
    chunks.add_argument("--max-chunks", type=positive_count, metavar="N",
                        help="stop after N chunks even if the run is not complete")
    chunks.add_argument("--chunk-iterations", type=positive_count, metavar="N",
                        help="override the config's chunk_size_iterations")
    chunks.add_argument("--chunk-minutes", type=_positive_float, metavar="M",
                        help="override the config's chunk_size_minutes")
    chunks.add_argument("--iters", type=positive_count, metavar="N",
                        help="override the config's total num_iterations")
    chunks.add_argument("--workers", type=positive_count, metavar="N",
                        help="threads each chunk trains on (default: every core); the tables "
                             "are the same for any number")
    chunks.add_argument("--ray-address", metavar="auto|HOST:PORT",
                        help="train each chunk on this running Ray cluster (the same tables as "
                             "on one machine); may change between chunks")
    chunks.add_argument("--keep-last", type=positive_count, metavar="N",
                        help="keep only the newest N checkpoints (notebooks are kept)")
    chunks.add_argument("--no-analysis", action="store_true",
                        help="do not execute the analysis notebook at the end")
    chunks.add_argument("--no-progress", action="store_true",
                        help="no progress bar in the chunk notebooks")
    chunks.add_argument("--no-tensorboard", action="store_true",
                        help="do not write TensorBoard scalars")
    chunks.add_argument("--quiet", action="store_true",
                        help="do not echo the chunk notebooks' output")
    _common(chunks)

    analyze = commands.add_parser(
        "analyze", help="execute the analysis notebook for a run",
        description="Execute notebooks/analysis.ipynb for RUN_DIR; the executed notebook and "
                    "its PNG figures are saved in RUN_DIR/analysis/.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    analyze.add_argument("--run", required=True, metavar="RUN_DIR", help="run directory")
    _common(analyze)

    status = commands.add_parser(
        "status", help="where a run stands (reads metadata only; safe while it trains)",
        description="Print a run's iteration, share done and ETA (training time at the last "
                    "chunk's speed), speed, newest exact exploitability (Kuhn, Leduc) or "
                    "matches against baselines (Hold'em), disk used, and whether a process "
                    "holds the run lock. Reads checkpoint metadata only and never takes a lock "
                    "someone holds.")
    status.add_argument("run", metavar="RUN_DIR", help="run directory")

    size = commands.add_parser(
        "size", help="size a config's game before building it (nodes, infosets, memory)",
        description="Print the game's betting-tree nodes and infosets (Hold'em trees are "
                    "counted exactly without being built), the rounds and bet-menu entries "
                    "most infosets come from, the solver's memory per table dtype, and the "
                    "#SBATCH --mem/--cpus-per-task lines of its Slurm jobs; with --measure, "
                    "the speed a short training run of it reaches here.")
    size.add_argument("config", metavar="CONFIG", help="YAML run config")
    size.add_argument("--num-players", type=positive_count, metavar="N",
                      help="the config's player count (the game's, when it sets one, must "
                           "agree)")
    size.add_argument("--measure", type=_positive_float, metavar="SECONDS",
                      help="also build the game and train it for SECONDS with the config's "
                           "engine, and print the iterations/s and node visits/s reached "
                           "(needs the bucket file and the memory above)")
    size.add_argument("--workers", type=positive_count, metavar="N",
                      help="workers of the --measure run (default: the config's)")
    return parser


def _epilog() -> str:
    return exit_codes.epilog(
        (exit_codes.CHUNK_DONE, exit_codes.ERROR, exit_codes.USAGE, exit_codes.CHECKPOINT,
         exit_codes.MISMATCH, exit_codes.LOCKED, exit_codes.IO, exit_codes.STOPPED,
         exit_codes.INTERRUPTED),
        {exit_codes.CHUNK_DONE: "the run is complete, or --max-chunks chunks ran (run again to "
                                "continue)",
         exit_codes.ERROR: "unexpected error, or the analysis notebook failed",
         exit_codes.USAGE: "invalid arguments, configuration, notebooks or kernel",
         exit_codes.STOPPED: "a chunk was stopped early after checkpointing: run again to "
                             "continue",
         exit_codes.INTERRUPTED: "interrupted: run again to continue"})


def _chunks(args: argparse.Namespace) -> int:
    from holdem_lab.lab.driver import run_chunks

    # The flags of the chunk notebook's parameters that this parser defines.
    overrides: dict[str, Any] = {
        row.notebook_parameter: getattr(args, row.dest) for row in SETTING_FLAGS
        if row.notebook_parameter and getattr(args, row.dest, None) is not None}
    outcome = run_chunks(args.config, args.run, max_chunks=args.max_chunks,
                         overrides=overrides, keep_last=args.keep_last,
                         tensorboard=not args.no_tensorboard, progress=not args.no_progress,
                         analysis=not args.no_analysis, notebooks_dir=args.notebooks,
                         kernel_name=args.kernel, echo=None if args.quiet else sys.stdout)
    return exit_codes.STOPPED if outcome.status == "stopped" else 0


def _analyze(args: argparse.Namespace) -> int:
    from holdem_lab.lab.driver import run_analysis

    notebook, figures = run_analysis(args.run, notebooks_dir=args.notebooks,
                                     kernel_name=args.kernel)
    print(f"analysis notebook: {notebook}")
    for path in figures.values():
        print(f"figure: {path}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from holdem_lab.cli.status import describe_run

    print("\n".join(describe_run(args.run)))
    return 0


def _size(args: argparse.Namespace) -> int:
    from holdem_lab.cli.size import size_lines
    from holdem_lab.config import load_run_config

    spec, config = load_run_config(args.config, {"num_players": args.num_players})
    print("\n".join(size_lines(spec, config.table_dtype, config.average_rounds)), flush=True)
    if args.measure is not None:
        from holdem_lab.cli.size import measured_speed_lines

        print("\n".join(measured_speed_lines(spec, config, args.measure, args.workers)))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    def body() -> int:
        args = build_parser().parse_args(argv)
        if args.command == "status":
            return _status(args)
        if args.command == "size":
            return _size(args)
        return _chunks(args) if args.command == "chunks" else _analyze(args)

    return run_command(PROG, body,
                       interrupted="interrupted; run the same command again to continue")


if __name__ == "__main__":
    sys.exit(main())
