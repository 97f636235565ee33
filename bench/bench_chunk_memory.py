"""A chunk's peak memory against its sizing: one short chunk of a run config, in a fresh
process (start-up, training, evaluation with the config's own matches and local best response,
the checkpoint write), its peak resident memory (`VmHWM`) against `memory_needed` and the
`#SBATCH --mem` that `holdem-lab size` asks for.

    python -m bench.bench_chunk_memory [CONFIG ...] [--iterations 20000] [--lbr-hands 200]

Default: the research heads-up config, whose bucket file must have been built
(`holdem-build-buckets --config holdem_lab/configs/buckets_research.yaml
--out data/buckets/research`). The rule the tests hold a chunk to: peak <= sized + the
512 MiB process base.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from holdem_lab.cli.sbatch import PROCESS_BASE_BYTES, bucket_file_bytes, resource_lines
from holdem_lab.config import load_run_config
from holdem_lab.games import build_game
from holdem_lab.solver.solver import memory_needed, strategy_layout

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "holdem_lab/configs/research_hu.yaml"

_CHUNK = textwrap.dedent("""
    import dataclasses, sys
    from holdem_lab.chunks import run_chunk
    from holdem_lab.config import load_run_config
    from holdem_lab.process import peak_rss_bytes

    spec, config = load_run_config(sys.argv[1])
    config = dataclasses.replace(config, num_iterations=int(sys.argv[3]),
                                 time_budget_seconds=None, enable_chunked_training=False,
                                 lbr_hands=int(sys.argv[4]))
    run_chunk(sys.argv[2], spec, config, progress=False, out=open("/dev/null", "w"))
    print(peak_rss_bytes())
""")


def measure(path: Path, iterations: int, lbr_hands: int) -> dict[str, float]:
    spec, config = load_run_config(path)
    game = build_game(spec)
    rows = strategy_layout(game, config.average_rounds)[1]
    sized = memory_needed(game, config.table_dtype, rows)
    with tempfile.TemporaryDirectory() as run:
        done = subprocess.run([sys.executable, "-c", _CHUNK, str(path), run, str(iterations),
                               str(lbr_hands)], capture_output=True, text=True, check=False,
                              cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{path.name}: the chunk failed:\n{done.stderr[-3000:]}")
    asked = resource_lines(sized, bucket_file_bytes(spec))[0].removeprefix(
        "#SBATCH --mem=").removesuffix("M")
    return {"peak_mib": int(done.stdout.split()[-1]) / 2**20, "sized_mib": sized / 2**20,
            "limit_mib": (sized + PROCESS_BASE_BYTES) / 2**20, "mem_mib": float(asked)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("configs", nargs="*", type=Path, default=[DEFAULT])
    parser.add_argument("--iterations", type=int, default=20_000)
    parser.add_argument("--lbr-hands", type=int, default=200)
    args = parser.parse_args()
    print("| config | sized | peak RSS | sized + process base | --mem |")
    print("|---|---:|---:|---:|---:|")
    for path in args.configs:
        row = measure(path, args.iterations, args.lbr_hands)
        print(f"| {path.name} | {row['sized_mib']:,.0f} MiB | {row['peak_mib']:,.0f} MiB | "
              f"{row['limit_mib']:,.0f} MiB | {row['mem_mib']:,.0f} MiB |", flush=True)


if __name__ == "__main__":
    main()
