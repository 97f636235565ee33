"""`holdem-eval`: matches of a blueprint against baseline agents or another blueprint, with
duplicate deals, in mbb/hand with 95% confidence intervals. Heads-up, each deal pair swaps the
seats; with 3 to 6 players, one blueprint seat plays the opponent in every other seat and each
deal is played once per seat of the blueprint, with results per seat position too."""

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
from holdem_lab.eval.match import MatchResult, MultiwayResult, play_match, play_multiway_match

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
    parser.add_argument("blueprint", nargs="+",
                        help="run directory or checkpoint_iter….npz of blueprint A (with --lbr: "
                             "one or two of them)")
    parser.add_argument("--against", nargs="+", default=BASELINES, metavar="AGENT",
                        help=f"baselines ({', '.join(BASELINES)}) and/or paths of other "
                             "blueprints (default: every baseline)")
    parser.add_argument("--hands", type=int, default=20_000,
                        help="duplicate deals per match (heads-up, each is two hands; with n "
                             "players, n hands, one per seat of the blueprint)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the deals")
    parser.add_argument("--buckets", metavar="DIR",
                        help="Hold'em bucket directory to use instead of the one the run "
                             "records (it must be the same file: its sha256 is checked); by "
                             "default the recorded path, else a file with the recorded sha256 "
                             "next to the run or in $HOLDEM_LAB_BUCKET_DIR")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument("--lbr", action="store_true",
                        help="local best response (mbb/hand the blueprint loses to it) instead "
                             "of matches; two blueprints: both and their paired difference")
    parser.add_argument("--lbr-actions", default="fcpa", metavar="SET",
                        help="LBR's actions: fcpa (default), fc, or pot fractions such as 0.5,1,2")
    parser.add_argument("--threads", type=int, default=None,
                        help="LBR threads (default: every core numba sees)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(PROG, lambda: _evaluate(build_parser().parse_args(argv)))


def _evaluate(args: argparse.Namespace) -> int:
    if args.lbr:
        return _lbr(args)
    if len(args.blueprint) > 1:
        raise ConfigError("blueprint", args.blueprint, "give one blueprint (two only with --lbr)")
    for opponent in args.against:
        if opponent not in AGENT_NAMES and not Path(opponent).exists():
            raise ConfigError("against", opponent,
                              f"is neither a baseline ({', '.join(BASELINES)}) nor the path of "
                              "a run or checkpoint")
    blueprint = load_blueprint(args.blueprint[0], buckets=args.buckets)
    # Built once for every opponent: building them walks the whole tree.
    arrays = blueprint.game.arrays() if blueprint.game.num_players > 2 else None
    results: list[MatchResult | MultiwayResult] = []
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
        result: MatchResult | MultiwayResult
        if blueprint.game.num_players == 2:
            result = play_match(blueprint.game, blueprint.policy,
                                other,  # type: ignore[arg-type]
                                deal_pairs=args.hands, seed=args.seed,
                                name_a=f"blueprint@{blueprint.iteration}", name_b=name)
        else:
            result = play_multiway_match(blueprint.game, blueprint.policy,
                                         other,  # type: ignore[arg-type]
                                         deals=args.hands, seed=args.seed,
                                         name_a=f"blueprint@{blueprint.iteration}", name_b=name,
                                         arrays=arrays)
        results.append(result)
        if not args.json:
            print(result.summary(), flush=True)
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=2))
    return 0


def _lbr(args: argparse.Namespace) -> int:
    """`--lbr`: LBR against one blueprint, or two on the same deals with their difference."""
    from tqdm.auto import tqdm

    from holdem_lab.eval.lbr import local_best_response, make_deals, paired_difference

    if len(args.blueprint) > 2:
        raise ConfigError("blueprint", args.blueprint, "--lbr takes one or two blueprints")
    blueprints = [load_blueprint(path, buckets=args.buckets) for path in args.blueprint]
    # Abstractions may differ (that is often the comparison); the real game may not.
    table = ("num_players", "stack", "small_blind", "big_blind", "ante", "ante_type")
    if len({tuple(b.game.params.get(k) for k in table) for b in blueprints}) > 1:
        raise BlueprintMismatchError(
            "the two runs play different games (players, stacks, blinds or antes)")
    deals = make_deals(args.hands, args.seed)
    results = []
    for path, blueprint in zip(args.blueprint, blueprints, strict=True):
        with tqdm(total=len(deals), unit="pair", desc=f"LBR {blueprint.iteration:,}",
                  disable=args.json, dynamic_ncols=True) as bar:

            def advance(done: int, bar: tqdm = bar) -> None:
                bar.update(done - bar.n)

            result = local_best_response(
                blueprint.game, blueprint.policy, deals=deals, actions=args.lbr_actions,
                threads=args.threads, progress=advance)
        results.append((path, blueprint.iteration, result))
    records = [{"blueprint": path, "iteration": iteration, **result.as_dict()}
               for path, iteration, result in results]
    difference = None
    if len(results) == 2:
        mean, half_width = paired_difference(results[0][2], results[1][2])
        difference = {"mbb_per_hand": mean, "ci95_mbb": half_width}
    if args.json:
        print(json.dumps({"lbr": records, "difference": difference}, indent=2))
        return 0
    for path, iteration, result in results:
        print(f"{path} (iteration {iteration:,}): {result.summary()}")
    if difference is not None:
        print(f"difference (first - second, paired): {difference['mbb_per_hand']:+.1f} ± "
              f"{difference['ci95_mbb']:.1f} mbb/hand")
    return 0


if __name__ == "__main__":
    sys.exit(main())
