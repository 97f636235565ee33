"""Build time and peak memory of `holdem-build-buckets`, and how they grow with bucket counts.

Each build runs in a fresh process (``python -m holdem_lab.cli.buckets``, progress bars
off), so its peak resident set size is that of the build alone; the figures come from the
``buckets.json`` it writes (wall and CPU seconds of the build and of each stage, peak RSS) plus
the wall time of the whole process (imports and loading the compiled kernels from numba's
cache included). Builds:

* the default config (``holdem_lab/configs/buckets_default.yaml``: preflop lossless, 50
  buckets on each later round) -- target <= 10 minutes and <= 8 GiB on 2 cores;
* the same config with k = 10, 50, 200 buckets on every clustered round (flop, turn, river).

The table sizes are fixed by the isomorphic index, so feature computation costs the same for
every k; only the clustering (k-means fit and assignment, 1-D k-means on the river) grows with
k. The load average is printed with the figures: on a shared machine, compare CPU seconds.

Run: ``python -m bench.bench_buckets [--ks 10 50 200]``. The first run also compiles the numba
kernels (cached on disk afterwards); run once before timing if the cache is cold.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_YAML = ROOT / "holdem_lab" / "configs" / "buckets_default.yaml"
TARGET_SECONDS = 600.0
TARGET_BYTES = 8 * 2**30


def _build(out: Path, flags: list[str]) -> dict[str, Any]:
    """Run one build in a fresh process; its summary plus the process wall time."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "holdem_lab.cli.buckets", "--config", str(DEFAULT_YAML),
         "--out", str(out), "--no-progress", "--force", *flags],
        capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"build failed ({result.returncode}): {result.stderr.strip()}")
    summary = json.loads((out / "buckets.json").read_text(encoding="utf-8"))
    return {
        "counts": summary["counts"],
        "process_seconds": round(wall, 2),
        "build_seconds": summary["build_seconds"],
        "build_cpu_seconds": summary["build_cpu_seconds"],
        "peak_rss_bytes": summary["peak_rss_bytes"],
        "npz_bytes": summary["npz_bytes"],
        "sha256": summary["sha256"],
        "stage_seconds": summary["stage_seconds"],
        "stage_cpu_seconds": summary["stage_cpu_seconds"],
        "load_average": os.getloadavg(),
    }


def run(ks: tuple[int, ...] = (10, 50, 200), directory: str | None = None) -> dict[str, Any]:
    """Build the default config and one config per k; return their figures."""
    figures: dict[str, Any] = {"cpus": os.cpu_count(), "target_seconds": TARGET_SECONDS,
                               "target_peak_bytes": TARGET_BYTES, "builds": {}}
    with tempfile.TemporaryDirectory(prefix="bench_buckets_", dir=directory) as tmp:
        root = Path(tmp)
        figures["builds"]["default"] = _build(root / "default", [])
        for k in ks:
            name = f"k={k}"
            flags = [f"--flop={k}", f"--turn={k}", f"--river={k}"]
            figures["builds"][name] = _build(root / name.replace("=", ""), flags)
    default = figures["builds"]["default"]
    figures["default_within_targets"] = bool(default["build_seconds"] <= TARGET_SECONDS
                                             and default["peak_rss_bytes"] <= TARGET_BYTES)
    return figures


def format_table(figures: dict[str, Any]) -> str:
    """The figures as a text table: one row per build, then the stages of the default."""
    lines = [f"{'build':<10} {'wall s':>8} {'cpu s':>8} {'process s':>10} {'peak GiB':>9} "
             f"{'npz MiB':>8}  {'load avg':>8}"]
    for name, row in figures["builds"].items():
        lines.append(f"{name:<10} {row['build_seconds']:>8.1f} {row['build_cpu_seconds']:>8.1f} "
                     f"{row['process_seconds']:>10.1f} {row['peak_rss_bytes'] / 2**30:>9.2f} "
                     f"{row['npz_bytes'] / 2**20:>8.1f}  {row['load_average'][0]:>8.2f}")
    lines.append("")
    lines.append(f"{'stage (wall / cpu s)':<22}" + "".join(
        f"{name:>14}" for name in figures["builds"]))
    stages = figures["builds"]["default"]["stage_seconds"]
    for stage in stages:
        cells = ""
        for row in figures["builds"].values():
            wall = row["stage_seconds"].get(stage, 0.0)
            cpu = row["stage_cpu_seconds"].get(stage, 0.0)
            cells += f"{wall:>7.1f}/{cpu:<6.1f}"
        lines.append(f"{stage:<22}{cells}")
    ok = "yes" if figures["default_within_targets"] else "NO"
    lines.append(f"\ndefault within 10 min and 8 GiB on {figures['cpus']} cpus: {ok}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ks", type=int, nargs="*", default=[10, 50, 200],
                        help="buckets per clustered round")
    parser.add_argument("--out", help="also save the figures as JSON here")
    args = parser.parse_args()
    figures = run(tuple(args.ks))
    print(format_table(figures))
    if args.out:
        Path(args.out).write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
