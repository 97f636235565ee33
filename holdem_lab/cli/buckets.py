"""`holdem-build-buckets`: build the card abstraction tables of a bucket config.

Settings come from the dataclass defaults, then the YAML file given with --config, then the
flags. A build that is already in DIR (its buckets.json records the same config and the npz
verifies) is not redone unless --force is given.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from holdem_lab.abstraction.buckets import (
    ROUNDS,
    BucketConfig,
    buckets_up_to_date,
    build_buckets,
    load_bucket_config,
)
from holdem_lab.cli import ArgumentParser, exit_codes, run_command

PROG = "holdem-build-buckets"

DESCRIPTION = """\
Build deterministic card abstraction tables for Hold'em: one bucket per suit-isomorphic hand
index of each round (preflop 169, flop 1,286,792, turn 13,960,050, river 123,156,254 entries).
River buckets cut the exact hand strength (vs one random hand) into intervals; turn and flop
buckets are k-means clusters of histograms of next-round strength (Johanson et al. 2013).
Bucket ids run from weakest to strongest on every round.

Writes DIR/buckets.npz (the tables; same config -> byte-identical file) and DIR/buckets.json
(config, counts, build time, peak memory, sha256 of the npz).
"""

EXAMPLES = """\
examples:
  holdem-build-buckets --config holdem_lab/configs/buckets_default.yaml --out buckets/default
  holdem-build-buckets --out buckets/small --flop 10 --turn 10 --river 10 --no-progress
"""

# flag -> BucketConfig field (the run config's flags are in holdem_lab.config.SETTING_FLAGS)
FLAG_FIELDS = {
    "preflop": "preflop",
    "flop": "flop",
    "turn": "turn",
    "river": "river",
    "bins": "histogram_bins",
    "sample": "kmeans_sample",
    "iterations": "kmeans_iterations",
    "seed": "seed",
    "num_players": "num_players",
}


def _preflop(text: str) -> int | str:
    if text == "lossless":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid value {text!r}: 'lossless' or a number of buckets") from None


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=DESCRIPTION,
        epilog=EXAMPLES + "\n" + exit_codes.epilog(
            (exit_codes.CHUNK_DONE, exit_codes.ERROR, exit_codes.USAGE, exit_codes.MISMATCH,
             exit_codes.IO, exit_codes.INTERRUPTED),
            {exit_codes.CHUNK_DONE: "built, or already up to date",
             exit_codes.MISMATCH: "bucket tables refused: more river buckets than distinct "
                                  "river strengths"}),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", metavar="YAML",
                        help="bucket config (e.g. holdem_lab/configs/buckets_default.yaml); "
                             "flags override it; without it the built-in defaults are used")
    parser.add_argument("--out", metavar="DIR", required=True,
                        help="output directory (buckets.npz and buckets.json go inside)")
    group = parser.add_argument_group("buckets per round (override the config)")
    group.add_argument("--preflop", type=_preflop, metavar="K|lossless",
                       help="'lossless' (169 classes) or 1..169")
    group.add_argument("--flop", type=int, metavar="K", help="flop buckets (1..65536)")
    group.add_argument("--turn", type=int, metavar="K", help="turn buckets (1..65536)")
    group.add_argument("--river", type=int, metavar="K", help="river buckets (1..1981)")
    group = parser.add_argument_group("clustering (override the config)")
    group.add_argument("--bins", type=int, metavar="N", help="histogram bins (2..255)")
    group.add_argument("--sample", type=int, metavar="N",
                       help="hands sampled to fit the k-means centroids")
    group.add_argument("--iterations", type=int, metavar="N", help="most k-means iterations")
    group.add_argument("--seed", type=int, metavar="S", help="k-means seed")
    group.add_argument("--num-players", type=int, metavar="N",
                       help="recorded only (strength vs one random hand stands in for multiway)")
    group = parser.add_argument_group("run")
    group.add_argument("--force", action="store_true",
                       help="rebuild even when DIR already holds a verified build of the config")
    group.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser


def config_from_args(args: argparse.Namespace) -> BucketConfig:
    """Defaults, then the YAML file, then the flags."""
    overrides: dict[str, Any] = {field: getattr(args, flag) for flag, field in FLAG_FIELDS.items()}
    if args.config:
        return load_bucket_config(args.config, overrides)
    return BucketConfig.from_mapping({k: v for k, v in overrides.items() if v is not None})


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code (:data:`holdem_lab.errors.EXIT_CODES`)."""
    return run_command(PROG, lambda: _build(build_parser().parse_args(argv)))


def _build(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    if not args.force:
        sha = buckets_up_to_date(args.out, config)
        if sha is not None:
            print(f"buckets up to date: {sha}")
            return 0
    files = build_buckets(config, args.out, progress=not args.no_progress)
    summary = files.summary
    counts = ", ".join(f"{name} {summary['counts'][name]}" for name in ROUNDS)
    print(f"wrote {files.npz} ({counts}) in {summary['build_seconds']:.1f} s, "
          f"peak RSS {summary['peak_rss_bytes'] / 2**30:.2f} GiB")
    print(f"sha256: {files.sha256}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
