"""`holdem-eval`: heads-up matches of a blueprint against baseline agents or another
blueprint, with duplicate deals, in mbb/hand with 95% confidence intervals."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from holdem_lab.cli import ArgumentParser, HelpFormatter, exit_codes, run_command
from holdem_lab.errors import BlueprintMismatchError, ConfigError
from holdem_lab.eval.agents import AGENT_NAMES
from holdem_lab.eval.blueprint import load_blueprint
from holdem_lab.eval.match import play_match

PROG = "holdem-eval"
BASELINES = [name for name in AGENT_NAMES if name != "blueprint"]


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=__doc__,
        epilog=exit_codes.epilog(
            (exit_codes.CHUNK_DONE, exit_codes.ERROR, exit_codes.USAGE, exit_codes.CHECKPOINT,
             exit_codes.MISMATCH, exit_codes.IO, exit_codes.INTERRUPTED),
            {exit_codes.CHUNK_DONE: "the matches were played",
             exit_codes.MISMATCH: "the blueprints were trained on different games or "
                                  "abstractions"}),
        formatter_class=HelpFormatter)
    parser.add_argument("blueprint", help="run directory or checkpoint_iter….npz of blueprint A")
    parser.add_argument("--against", nargs="+", default=BASELINES, metavar="AGENT",
                        help=f"baselines ({', '.join(BASELINES)}) and/or paths of other "
                             "blueprints (default: every baseline)")
    parser.add_argument("--hands", type=int, default=20_000,
                        help="duplicate deal pairs per match (each is two hands)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the deals")
    parser.add_argument("--buckets", metavar="DIR",
                        help="Hold'em bucket directory to use instead of the one the run "
                             "records (it must be the same file: its sha256 is checked); by "
                             "default the recorded path, else a file with the recorded sha256 "
                             "next to the run or in $HOLDEM_LAB_BUCKET_DIR")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(PROG, lambda: _evaluate(build_parser().parse_args(argv)))


def _evaluate(args: argparse.Namespace) -> int:
    for opponent in args.against:
        if opponent not in AGENT_NAMES and not Path(opponent).exists():
            raise ConfigError("against", opponent,
                              f"is neither a baseline ({', '.join(BASELINES)}) nor the path of "
                              "a run or checkpoint")
    blueprint = load_blueprint(args.blueprint, buckets=args.buckets)
    results = []
    for opponent in args.against:
        if opponent in AGENT_NAMES:
            other: object = opponent
            name = opponent
        else:
            other_blueprint = load_blueprint(opponent, buckets=args.buckets)
            if other_blueprint.game.identity() != blueprint.game.identity():
                raise BlueprintMismatchError(
                    f"{opponent} was trained on another game or abstraction")
            other = other_blueprint.policy
            name = f"blueprint@{other_blueprint.iteration}"
        result = play_match(blueprint.game, blueprint.policy, other,  # type: ignore[arg-type]
                            deal_pairs=args.hands, seed=args.seed,
                            name_a=f"blueprint@{blueprint.iteration}", name_b=name)
        results.append(result)
        if not args.json:
            print(result.summary(), flush=True)
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
