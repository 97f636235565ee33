"""What chunking costs: per-chunk overhead (process start, load, save) against chunk compute,
the wall time of 4 chunks against 1 unchunked run of the same iterations (target <= 1.10x),
and peak RSS per chunk (target: flat within 5%).

Every chunk is a fresh `holdem-train-blueprint` process, as in real use. Iteration counts are
calibrated so that the unchunked run takes about `target_seconds`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from holdem_lab import MCCFRConfig, Solver, load_game


def _train(logdir: Path, iterations: int, chunk: int | None, game: str) -> tuple[float, int]:
    args = [sys.executable, "-m", "holdem_lab.cli.train", "--logdir", str(logdir), "--game",
            game, "--iters", str(iterations), "--no-progress", "--no-tensorboard",
            "--discount-mode", "linear", "--discount-interval", "1000"]
    if chunk is not None:
        args += ["--chunked", "--chunk-iterations", str(chunk)]
    started = time.perf_counter()
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, result.returncode


def run(target_seconds: float = 60.0, chunks: int = 4, game: str = "leduc") -> dict[str, Any]:
    from holdem_lab.checkpoint import load_checkpoint
    from holdem_lab.chunks.runner import latest_checkpoint

    solver = Solver(load_game(game), MCCFRConfig(discount_mode="linear",
                                                 discount_interval=1000))
    solver.run(10)
    probe = Solver(load_game(game), MCCFRConfig(discount_mode="linear", discount_interval=1000))
    started = time.perf_counter()
    probe.run(200_000)
    rate = 200_000 / (time.perf_counter() - started)
    iterations = int(rate * target_seconds) // chunks * chunks
    with tempfile.TemporaryDirectory(prefix="bench_chunks_") as tmp:
        whole_seconds, code = _train(Path(tmp) / "whole", iterations, None, game)
        assert code == 3, f"unchunked run exited {code}"
        chunk_walls = []
        for _ in range(chunks):
            seconds, code = _train(Path(tmp) / "chunked", iterations, iterations // chunks, game)
            chunk_walls.append(seconds)
        assert code == 3, f"last chunk exited {code}"
        info = latest_checkpoint(Path(tmp) / "chunked")
        assert info is not None
        history = load_checkpoint(info).metadata["chunks"]
    chunk_compute = [c["compute_seconds"] for c in history]
    overhead = [wall - comp for wall, comp in zip(chunk_walls, chunk_compute, strict=True)]
    rss = [c["peak_rss_bytes"] / 2**20 for c in history]
    return {
        "game": game,
        "iterations": iterations,
        "chunks": chunks,
        "unchunked_wall_seconds": whole_seconds,
        "chunked_wall_seconds": sum(chunk_walls),
        "chunked_over_unchunked": sum(chunk_walls) / whole_seconds,
        "per_chunk_wall_seconds": chunk_walls,
        "per_chunk_compute_seconds": chunk_compute,
        "per_chunk_overhead_seconds": overhead,
        "overhead_share": sum(overhead) / sum(chunk_walls),
        "peak_rss_mb_per_chunk": rss,
        "peak_rss_spread": (max(rss) - min(rss)) / min(rss),
        "targets": {"chunked_over_unchunked": "<= 1.10", "peak_rss_spread": "<= 0.05"},
    }


def print_table(result: dict[str, Any]) -> None:
    print(f"{result['chunks']} chunks of {result['iterations'] // result['chunks']:,} "
          f"{result['game']} iterations vs one run of {result['iterations']:,}")
    print(f"  unchunked {result['unchunked_wall_seconds']:.1f} s, chunked "
          f"{result['chunked_wall_seconds']:.1f} s: ratio {result['chunked_over_unchunked']:.3f}"
          " (target <= 1.10)")
    print("  overhead per chunk (start, load, save): "
          + ", ".join(f"{s:.2f} s" for s in result["per_chunk_overhead_seconds"])
          + f" ({100 * result['overhead_share']:.1f}% of the chunked wall time)")
    print("  peak RSS per chunk: " + ", ".join(f"{m:.0f} MiB" for m in
                                               result["peak_rss_mb_per_chunk"])
          + f" (spread {100 * result['peak_rss_spread']:.1f}%, target <= 5%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target-seconds", type=float, default=60.0)
    parser.add_argument("--chunks", type=int, default=4)
    parser.add_argument("--game", default="leduc")
    parser.add_argument("--out")
    args = parser.parse_args()
    result = run(args.target_seconds, args.chunks, args.game)
    print_table(result)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
