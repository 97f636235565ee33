"""`holdem-lab`: the Jupyter side of holdem_lab from the command line.

`holdem-lab chunks` trains a run to completion one chunk at a time, each chunk being
notebooks/chunk.ipynb executed by papermill in a fresh kernel (see holdem_lab.lab.driver), then
executes notebooks/analysis.ipynb. `holdem-lab analyze` executes only the analysis.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from holdem_lab.cli import ArgumentParser, exit_codes, positive_count
from holdem_lab.errors import (
    CheckpointError,
    ConfigError,
    GameError,
    HoldemLabError,
    RunLockedError,
)

DESCRIPTION = """\
Train and analyse poker blueprints through Jupyter notebooks.

chunks   train a run to completion, one chunk per fresh kernel: each chunk executes
         notebooks/chunk.ipynb with papermill (resume from the newest complete checkpoint,
         train one chunk, checkpoint) and the executed notebook is kept next to the checkpoint
         it wrote (RUN/checkpoints/checkpoint_iter<N>.ipynb). Then notebooks/analysis.ipynb
         is executed and saved with its figures in RUN/analysis/.
analyze  execute only the analysis notebook for a run.
"""

CHUNKS_DESCRIPTION = """\
Train the run in RUN_DIR with the settings of CONFIG until it is complete (or for at most
--max-chunks chunks), one chunk notebook per fresh kernel, then execute the analysis notebook.

Interrupted or failed, run the same command again: it continues from the last complete
checkpoint. A failed chunk's executed notebook (with the error) is kept in RUN_DIR/failed/.
"""

CHUNKS_EXAMPLES = """\
examples:
  holdem-lab chunks --config holdem_lab/configs/leduc_small.yaml --run runs/leduc_small
  holdem-lab chunks --config run.yaml --run runs/x --max-chunks 2   # two chunks, then stop
"""

# Exception class raised inside a chunk notebook -> exit code of this command.
NOTEBOOK_ERROR_CODES = {
    "ConfigError": exit_codes.USAGE,
    "GameError": exit_codes.USAGE,
    "ResumeMismatchError": exit_codes.MISMATCH,
    "BucketError": exit_codes.MISMATCH,
    "RunLockedError": exit_codes.LOCKED,
    "CheckpointError": exit_codes.CHECKPOINT,
    "CheckpointVerificationError": exit_codes.CHECKPOINT,
    "OSError": exit_codes.IO,
    "PermissionError": exit_codes.IO,
    "FileNotFoundError": exit_codes.IO,
    "IsADirectoryError": exit_codes.IO,
    "NotADirectoryError": exit_codes.IO,
    "KeyboardInterrupt": 130,
}


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
    parser = ArgumentParser(prog="holdem-lab", description=DESCRIPTION,
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
    return parser


def _epilog() -> str:
    lines = ["exit codes:",
             "  0   the run is complete, or --max-chunks chunks ran (run again to continue)",
             "  1   unexpected error, or the analysis notebook failed",
             "  2   invalid arguments, configuration, notebooks or kernel",
             "  4   checkpoints refused (corrupt, incomplete or unreadable)",
             "  5   bucket file refused (missing or damaged), or resume refused: the game,",
             "      bucket file or a training setting changed",
             "  6   another process is training this run",
             "  7   I/O error",
             "  8   a chunk was stopped early after checkpointing: run again to continue",
             "  130 interrupted: run again to continue"]
    return "\n".join(lines)


def _chunks(args: argparse.Namespace) -> int:
    from holdem_lab.lab.driver import run_chunks

    overrides: dict[str, Any] = {}
    if args.chunk_iterations is not None:
        overrides["chunk_iterations"] = args.chunk_iterations
    if args.chunk_minutes is not None:
        overrides["chunk_minutes"] = args.chunk_minutes
    if args.iters is not None:
        overrides["num_iterations"] = args.iters
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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from holdem_lab.lab.driver import AnalysisFailedError, ChunkFailedError, LabError

    try:
        return _chunks(args) if args.command == "chunks" else _analyze(args)
    except ChunkFailedError as exc:
        return _fail(NOTEBOOK_ERROR_CODES.get(exc.error_name, exit_codes.ERROR), str(exc))
    except AnalysisFailedError as exc:
        return _fail(exit_codes.ERROR, str(exc))
    except ConfigError as exc:
        return _fail(exit_codes.USAGE, f"invalid configuration: {exc}")
    except GameError as exc:
        return _fail(exit_codes.USAGE, f"invalid game: {exc}")
    except LabError as exc:
        return _fail(exit_codes.USAGE, str(exc))
    except RunLockedError as exc:
        return _fail(exit_codes.LOCKED, str(exc))
    except CheckpointError as exc:
        return _fail(exit_codes.CHECKPOINT, f"checkpoint error: {exc}")
    except HoldemLabError as exc:
        return _fail(exit_codes.ERROR, str(exc))
    except OSError as exc:
        return _fail(exit_codes.IO, f"I/O error: {exc}")
    except KeyboardInterrupt:
        return _fail(130, "interrupted; run the same command again to continue")
    except Exception:  # a bug: show everything
        traceback.print_exc()
        return exit_codes.ERROR


def _fail(code: int, message: str) -> int:
    print(f"holdem-lab: error: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
