"""The settings sweep behind MCCFRConfig's defaults: sampling scheme x discounting (mode,
alpha/beta/gamma, interval) x pruning, measured at equal wall time.

Three stages, each on the engine users get (`engine: auto`, every core; `--engine` and
`--workers` choose another):

1. **screen** — Leduc, every cell of the grid (`build_grid`; `skip_reason` says which cells it
   leaves out and why) for `--seconds` of training per seed, `--seeds` seeds; exact
   exploitability of the average policy at the end.
2. **confirm** — the `--top` best cells of the screen by median exploitability, at most one per
   sampling and discounting (`select_for_confirm`), for `--confirm-seconds` with
   `--confirm-seeds` fresh seeds (fresh, so a cell that led the screen on a lucky seed does not
   keep the luck).
3. **holdem** — the samplings and discountings of the `--holdem-top` best confirmed cells, each
   without and (external sampling) with pruning, and the setting the Hold'em config ships
   with, each trained once on that config (default_hu.yaml and its bucket file) for
   `--holdem-seconds`, then measured by local best response (`fcpa`) for `--lbr-seconds` on one
   deal list; the comparison uses the deals every candidate played, so differences are paired.

The planned time is printed before anything runs; a plan over `--max-minutes` is refused with
what would fit. Results go to `--out` (JSON, rewritten whole after every stage) and a Markdown
table (`--markdown`) ending in the recommended defaults: MCCFRConfig's from Leduc, the Hold'em
configs' from the Hold'em stage.

    python -m bench.bench_sweep [--stage all|screen|confirm|holdem] [--quick]
        [--seconds 10] [--seeds 3] [--confirm-seconds 60] [--confirm-seeds 5] [--top 4]
        [--holdem-top 2] [--holdem-seconds 120] [--lbr-seconds 40] [--max-minutes 60]
        [--engine auto] [--workers N] [--previous FILE] [--out FILE] [--markdown FILE]

A later stage run alone (`--stage confirm`, `--stage holdem`) takes the earlier stages'
results from `--previous`, a JSON file this script wrote.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from holdem_lab import MCCFRConfig, Solver, exploitability, load_game
from holdem_lab.config import SAMPLINGS, load_run_config
from holdem_lab.errors import ConfigError, HoldemLabError

REPO = Path(__file__).resolve().parents[1]
DEFAULT_HOLDEM_CONFIG = REPO / "holdem_lab/configs/default_hu.yaml"
STAGES = ("screen", "confirm", "holdem")

# The published DCFR parameters (Brown & Sandholm 2019) and two with gentler negative-regret
# discounting, which sampling tolerates better than full-width CFR.
DCFR_PARAMETERS: tuple[tuple[float, float, float], ...] = (
    (1.5, 0.0, 2.0), (1.5, 0.5, 2.0), (1.0, 1.0, 1.0))
LINEAR_INTERVALS: tuple[int, ...] = (1, 10, 100)
DCFR_INTERVALS: tuple[int, ...] = (1, 10, 100, 1000)

SLICE_SECONDS = 0.25
"""Training runs in `solver.run` slices of about this long, so a budget ends within one."""
FIRST_SLICE_ITERATIONS = 1000
# Estimates for the plan, beyond the training and LBR budgets themselves.
STAGE_START_SECONDS = 15.0  # loading (or compiling) the kernels, once per stage
RUN_OVERHEAD_SECONDS = 0.3  # a Leduc run's solver, last slice and exact exploitability
HOLDEM_START_SECONDS = 60.0  # the Hold'em game, its bucket file and LBR's kernels
HOLDEM_RUN_OVERHEAD_SECONDS = 15.0  # a Hold'em candidate's tables and average policy
BUSY_LOAD = 0.5
"""A load average at the start from which the sweep warns that other work is running."""
LBR_PAIRS_PER_SECOND_BOUND = 4000
"""More LBR deal pairs per second than two cores play, to size the shared deal list."""


class BudgetError(ValueError):
    """The sweep as asked would take longer than its time limit."""


# --------------------------------------------------------------------------- the grid


@dataclass(frozen=True)
class Cell:
    """One setting of the sweep: the MCCFRConfig fields it sets."""

    sampling: str
    discount_mode: str
    discount_interval: int = 1
    dcfr: tuple[float, float, float] | None = None
    pruning: bool = False

    @property
    def name(self) -> str:
        if self.discount_mode == "none":
            discount = "none"
        elif self.discount_mode == "dcfr" and self.dcfr is not None:
            discount = "dcfr({:g},{:g},{:g})/{}".format(*self.dcfr, self.discount_interval)
        else:
            discount = f"{self.discount_mode}/{self.discount_interval}"
        return f"{self.sampling} {discount}" + (" prune" if self.pruning else "")

    def settings(self) -> dict[str, Any]:
        """The MCCFRConfig fields this cell sets (the others keep the base config's)."""
        out: dict[str, Any] = {"sampling": self.sampling, "discount_mode": self.discount_mode,
                               "discount_interval": self.discount_interval,
                               "enable_pruning": self.pruning}
        if self.dcfr is not None:
            out["dcfr_alpha"], out["dcfr_beta"], out["dcfr_gamma"] = self.dcfr
        return out

    def config(self, base: MCCFRConfig, seed: int) -> MCCFRConfig:
        return base.replace(seed=seed, **self.settings())

    @property
    def setting(self) -> Cell:
        """This cell without pruning: what it samples and how it discounts."""
        return dataclasses.replace(self, pruning=False)

    def to_dict(self) -> dict[str, Any]:
        return {"sampling": self.sampling, "discount_mode": self.discount_mode,
                "discount_interval": self.discount_interval,
                "dcfr": list(self.dcfr) if self.dcfr is not None else None,
                "pruning": self.pruning}

    @classmethod
    def from_dict(cls, data: Any) -> Cell:
        """The cell `to_dict` wrote; anything else raises ValueError."""
        try:
            dcfr = data.get("dcfr")
            cell = cls(sampling=data["sampling"], discount_mode=data["discount_mode"],
                       discount_interval=data["discount_interval"],
                       dcfr=tuple(float(x) for x in dcfr)  # type: ignore[arg-type]
                       if dcfr is not None else None,
                       pruning=data["pruning"])
        except (AttributeError, KeyError, TypeError, ValueError):
            raise ValueError(f"not a sweep cell: {data!r}") from None
        if cell.dcfr is not None and len(cell.dcfr) != 3:
            raise ValueError(f"not a sweep cell: {data!r} (dcfr needs alpha, beta, gamma)")
        cell.config(MCCFRConfig(), 0)  # raises ConfigError for an invalid setting
        return cell

    @classmethod
    def from_config(cls, config: MCCFRConfig) -> Cell:
        dcfr = (config.dcfr_alpha, config.dcfr_beta, config.dcfr_gamma) \
            if config.discount_mode == "dcfr" else None
        return cls(sampling=config.sampling, discount_mode=config.discount_mode,
                   discount_interval=config.discount_interval, dcfr=dcfr,
                   pruning=config.enable_pruning)


@dataclass(frozen=True)
class Grid:
    """The cells to measure, and the cells left out with the reason for each."""

    cells: tuple[Cell, ...]
    skipped: tuple[tuple[Cell, str], ...] = ()


def skip_reason(cell: Cell, base: MCCFRConfig) -> str | None:
    """Why `cell` is not worth measuring, or None."""
    try:
        cell.config(base, 0)
    except ConfigError as exc:
        return f"invalid: {exc}"
    if cell.pruning and cell.sampling == "outcome":
        return ("outcome sampling walks one path per iteration: pruning saves it no work and "
                "only narrows its exploration")
    if cell.pruning and cell.discount_mode == "dcfr":
        # Pruning acts only on regrets below its threshold, and on Leduc only on first-round
        # checks and raises: the screen gives it its best chance and leaves DCFR to Hold'em.
        return ("Leduc screens pruning where negative regrets grow fastest (no discounting, "
                "linear); the Hold'em stage runs every candidate with and without pruning")
    return None


def build_grid(*, samplings: Sequence[str] = SAMPLINGS,
               linear_intervals: Sequence[int] = LINEAR_INTERVALS,
               dcfr_parameters: Sequence[tuple[float, float, float]] = DCFR_PARAMETERS,
               dcfr_intervals: Sequence[int] = DCFR_INTERVALS,
               pruning: Sequence[bool] = (False, True),
               base: MCCFRConfig | None = None) -> Grid:
    """Sampling x discounting (none; linear at each interval; DCFR with each parameter set at
    each interval) x pruning, less the cells `skip_reason` leaves out."""
    base = base or MCCFRConfig()
    discounts: list[tuple[str, int, tuple[float, float, float] | None]] = [("none", 1, None)]
    discounts += [("linear", interval, None) for interval in linear_intervals]
    discounts += [("dcfr", interval, tuple(params))  # type: ignore[misc]
                  for params in dcfr_parameters for interval in dcfr_intervals]
    cells: list[Cell] = []
    skipped: list[tuple[Cell, str]] = []
    for sampling in samplings:
        for prune in pruning:
            for mode, interval, params in discounts:
                cell = Cell(sampling, mode, interval, params, prune)
                reason = skip_reason(cell, base)
                if reason is None:
                    cells.append(cell)
                else:
                    skipped.append((cell, reason))
    return Grid(tuple(cells), tuple(skipped))


def quick_grid() -> Grid:
    """A few cells that touch every path of the sweep (both samplings, each discount mode,
    pruning), for a smoke run."""
    cells = build_grid(linear_intervals=(100,), dcfr_parameters=(), pruning=(False,)).cells
    return Grid(cells + (Cell("external", "dcfr", 1, (1.5, 0.0, 2.0)),
                         Cell("external", "linear", 100, None, True)))


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Settings:
    """Budgets and sizes of one sweep (the command line's flags)."""

    stages: tuple[str, ...] = STAGES
    seconds: float = 10.0
    seeds: int = 3
    confirm_seconds: float = 60.0
    confirm_seeds: int = 5
    top: int = 4
    holdem_top: int = 2
    holdem_seconds: float = 120.0
    lbr_seconds: float = 40.0
    max_minutes: float = 60.0
    engine: str = "auto"
    workers: int | None = None
    holdem_config: Path = DEFAULT_HOLDEM_CONFIG
    buckets: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["stages"] = list(self.stages)
        out["holdem_config"] = str(self.holdem_config)
        out["buckets"] = str(self.buckets) if self.buckets else None
        return out


QUICK = {"seconds": 1.0, "seeds": 2, "confirm_seconds": 1.0, "confirm_seeds": 2, "top": 2,
         "holdem_top": 1, "holdem_seconds": 1.0, "lbr_seconds": 1.0}


def planned_seconds(settings: Settings, cells: int, confirm_cells: int | None = None
                    ) -> dict[str, float]:
    """Seconds each stage of `settings` is expected to take with `cells` cells in the screen
    (`confirm_cells`: how many the confirm stage gets when the screen is not run)."""
    plan: dict[str, float] = {}
    if "screen" in settings.stages:
        plan["screen"] = STAGE_START_SECONDS + cells * settings.seeds * (
            settings.seconds + RUN_OVERHEAD_SECONDS)
    if "confirm" in settings.stages:
        count = min(settings.top, cells) if confirm_cells is None else confirm_cells
        plan["confirm"] = STAGE_START_SECONDS + count * settings.confirm_seeds * (
            settings.confirm_seconds + RUN_OVERHEAD_SECONDS)
    if "holdem" in settings.stages:
        # At most: the best confirmed cells with and without pruning, and the config's own.
        candidates = 2 * settings.holdem_top + 1
        plan["holdem"] = HOLDEM_START_SECONDS + candidates * (
            settings.holdem_seconds + settings.lbr_seconds + HOLDEM_RUN_OVERHEAD_SECONDS)
    plan["total"] = sum(plan.values())
    return plan


def check_budget(settings: Settings, plan: dict[str, float], cells: int) -> None:
    """Raise BudgetError, saying what would fit, when `plan` exceeds `settings.max_minutes`."""
    limit = settings.max_minutes * 60.0
    if plan["total"] <= limit:
        return
    hint = ""
    if "screen" in plan and cells:
        others = plan["total"] - plan["screen"]
        fit = math.floor(10 * ((limit - others - STAGE_START_SECONDS) / (cells * settings.seeds)
                               - RUN_OVERHEAD_SECONDS)) / 10
        hint = (f"; with the other stages as they are, --seconds {fit:.1f} would fit"
                if fit >= 0.1 else "; the other stages alone leave the screen no time")
    raise BudgetError(
        f"the sweep is planned at {plan['total'] / 60:.1f} min, over --max-minutes "
        f"{settings.max_minutes:g}: lower --seconds, --seeds, --confirm-seconds, --top, "
        f"--holdem-seconds or --lbr-seconds, or run one --stage at a time{hint}")


# --------------------------------------------------------------------------- training


@dataclass
class TrainResult:
    iterations: int
    seconds: float
    solver: Solver = field(repr=False)

    @property
    def iterations_per_second(self) -> float:
        return self.iterations / self.seconds if self.seconds > 0 else 0.0


def train_for(solver: Solver, seconds: float,
              clock: Callable[[], float] = time.perf_counter) -> TrainResult:
    """Train `solver` in slices of about SLICE_SECONDS until `seconds` of training are spent
    (only the `run` calls count); each slice is sized from the previous one's rate (which
    changes as the tables fill), the last to end near the budget."""
    spent = 0.0
    count = FIRST_SLICE_ITERATIONS
    while spent < seconds:
        started = clock()
        done = solver.run(count)
        took = clock() - started
        spent += took
        rate = done / took if took > 0 else 0.0
        count = max(1, int(rate * min(SLICE_SECONDS, seconds - spent))) if rate else count * 2
    return TrainResult(int(solver.iteration), spent, solver)


def _warm_up(game: Any, config: MCCFRConfig) -> None:
    """Load or compile the kernels this config uses outside every timed region."""
    Solver(game, config).run(1)


def summarize(cell: Cell, runs: list[dict[str, Any]]) -> dict[str, Any]:
    values = [run["exploitability"] for run in runs]
    return {"name": cell.name, "cell": cell.to_dict(), "runs": runs,
            "iterations_per_second": statistics.median(
                run["iterations"] / run["seconds"] for run in runs),
            "median_exploitability": statistics.median(values),
            "min_exploitability": min(values), "max_exploitability": max(values)}


def _rank_key(row: dict[str, Any]) -> tuple[float, float]:
    median, worst = row["median_exploitability"], row["max_exploitability"]
    return (median if math.isfinite(median) else math.inf,
            worst if math.isfinite(worst) else math.inf)


def rank(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows sorted best first (lowest median exploitability, then lowest worst seed), each
    with its `ratio_to_best`."""
    ranked = sorted(rows, key=_rank_key)
    if ranked:
        best = ranked[0]["median_exploitability"]
        for row in ranked:
            row["ratio_to_best"] = row["median_exploitability"] / best if best > 0 else math.nan
    return ranked


def leduc_stage(cells: Sequence[Cell], *, seconds: float, seeds: Sequence[int],
                base: MCCFRConfig, label: str, progress: bool = True) -> dict[str, Any]:
    """Train every cell for `seconds` per seed on Leduc; the cells ranked (`rank`). Seeds run
    in the outer loop, so that a spell of other work on the machine slows one seed of many
    cells (which the median discards) rather than every seed of one."""
    from tqdm import tqdm

    game = load_game("leduc")
    for cell in cells:
        _warm_up(game, cell.config(base, 0))
    runs: dict[Cell, list[dict[str, Any]]] = {cell: [] for cell in cells}
    engine: dict[str, Any] = {}
    best = ""
    bar = tqdm(total=len(cells) * len(seeds), desc=label, unit="run", disable=not progress,
               file=sys.stderr)
    with bar:
        for seed in seeds:
            for cell in cells:
                bar.set_postfix_str(f"{cell.name} seed {seed}{best}")
                solver = Solver(game, cell.config(base, seed))
                result = train_for(solver, seconds)
                stats = solver.statistics()
                runs[cell].append({"seed": seed, "iterations": result.iterations,
                                   "seconds": result.seconds,
                                   "exploitability": float(exploitability(
                                       game, solver.average_policy())),
                                   "pruned_actions": int(stats["pruned_actions"]),
                                   "nodes_visited": int(stats["nodes_visited"])})
                engine = {"engine": solver.engine, "workers": solver.workers,
                          "batch_iterations": solver.batch_iterations, "shards": solver.shards}
                bar.update(1)
                leader = min((summarize(c, r) for c, r in runs.items() if r), key=_rank_key)
                best = f" | best {leader['name']} {leader['median_exploitability']:.5f}"
    return {"game": "leduc", "seconds": seconds, "seeds": list(seeds), "engine": engine,
            "load_average_at_end": list(os.getloadavg()),
            "cells": rank(summarize(cell, cell_runs) for cell, cell_runs in runs.items())}


def select_for_confirm(ranked: Sequence[dict[str, Any]], top: int) -> list[Cell]:
    """The `top` best cells of a ranked screen, at most one per sampling and discounting: a
    cell and its pruning twin go on as one, the better of the two (on Leduc they differ
    little, and the Hold'em stage compares pruning anyway)."""
    chosen: list[Cell] = []
    for row in ranked:
        cell = Cell.from_dict(row["cell"])
        if all(cell.setting != other.setting for other in chosen):
            chosen.append(cell)
        if len(chosen) == top:
            break
    return chosen


# --------------------------------------------------------------------------- Hold'em


def holdem_candidates(confirmed: Sequence[dict[str, Any]], count: int, shipped: Cell
                      ) -> list[tuple[str, Cell]]:
    """The samplings and discountings of the `count` best confirmed cells, each without
    pruning and (external sampling, where pruning saves work) with it, then the config's own
    setting unless among them."""
    out: list[tuple[str, Cell]] = []
    settings: list[Cell] = []
    for row in confirmed:
        setting = Cell.from_dict(row["cell"]).setting
        if setting in settings:
            continue
        if len(settings) == count:
            break
        settings.append(setting)
        out.append((f"confirm #{len(settings)}", setting))
        if setting.sampling == "external":
            out.append((f"confirm #{len(settings)}", dataclasses.replace(setting, pruning=True)))
    if all(cell != shipped for _, cell in out):
        out.append(("config's own", shipped))
    return out


def _interval(scores: np.ndarray) -> tuple[float, float]:
    mean = float(scores.mean())
    half = 1.96 * float(scores.std(ddof=1)) / math.sqrt(len(scores)) if len(scores) > 1 \
        else math.inf
    return mean, half


def _deadline(seconds: float) -> Callable[[], bool]:
    """True once `seconds` have passed since this call."""
    end = time.perf_counter() + seconds
    return lambda: time.perf_counter() >= end


def holdem_stage(candidates: Sequence[tuple[str, Cell]], *, settings: Settings,
                 progress: bool = True, seed: int = 0, lbr_seed: int = 7) -> dict[str, Any]:
    """Train each candidate on the Hold'em config for `holdem_seconds`, then LBR (`fcpa`) for
    `lbr_seconds` on one shared deal list; every candidate is scored on the deals all of them
    played, with its paired difference from the best."""
    from tqdm import tqdm

    from holdem_lab.eval.lbr import local_best_response, make_deals
    from holdem_lab.solver.solver import resolve_workers

    spec, yaml_config = load_run_config(settings.holdem_config)
    buckets = str(settings.buckets) if settings.buckets else spec.buckets
    params = dict(spec.game_params)
    if buckets and Path(buckets).exists():
        game, abstraction = load_game("holdem", buckets=buckets, **params), \
            f"bucket file {Path(buckets).parent.name}"
    else:
        print(f"warning: no bucket file at {buckets}: the Hold'em stage trains the lossless-"
              "preflop abstraction with one bucket postflop (build it with `make chunks` or "
              "holdem-build-buckets, or pass --buckets)", file=sys.stderr)
        game, abstraction = load_game("holdem", **params), "lossless preflop, one bucket postflop"
    base = yaml_config.replace(engine=settings.engine, num_workers=settings.workers)
    threads = resolve_workers(settings.workers)
    pairs = max(2, int(settings.lbr_seconds * LBR_PAIRS_PER_SECOND_BOUND))
    deals = make_deals(pairs, seed=lbr_seed)
    rows: list[dict[str, Any]] = []
    scores: list[np.ndarray] = []
    bar = tqdm(candidates, desc="holdem", unit="setting", disable=not progress, file=sys.stderr)
    best, best_mbb = "", math.inf
    for label, cell in bar:
        bar.set_postfix_str(cell.name + best)
        config = cell.config(base, seed)
        _warm_up(game, config)
        solver = Solver(game, config)
        result = train_for(solver, settings.holdem_seconds)
        policy = solver.average_policy()
        lbr = local_best_response(game, policy, deals=deals, threads=threads,
                                  should_stop=_deadline(settings.lbr_seconds))
        scores.append(lbr.pair_scores)
        if lbr.mbb_per_hand < best_mbb:
            best, best_mbb = f" | best {cell.name} {lbr.mbb_per_hand:+.0f}", lbr.mbb_per_hand
        rows.append({"label": label, "name": cell.name, "cell": cell.to_dict(),
                     "iterations": result.iterations, "seconds": result.seconds,
                     "iterations_per_second": result.iterations_per_second,
                     "pruned_actions": int(solver.statistics()["pruned_actions"]),
                     "load_average_after_training": os.getloadavg()[0],
                     "engine": {"engine": solver.engine, "workers": solver.workers,
                                "batch_iterations": solver.batch_iterations,
                                "shards": solver.shards},
                     "lbr_own": lbr.as_dict()})
        del solver, policy
    common = min(len(s) for s in scores) if scores else 0
    for row, own in zip(rows, scores, strict=True):
        row["mbb_per_hand"], row["ci95_mbb"] = _interval(own[:common])
    order = sorted(range(len(rows)), key=lambda i: rows[i]["mbb_per_hand"])
    if rows:
        leader = scores[order[0]][:common]
        for i in order:
            rows[i]["vs_best_mbb"], rows[i]["vs_best_ci95_mbb"] = _interval(
                scores[i][:common] - leader)
    return {"config": str(settings.holdem_config), "abstraction": abstraction,
            "buckets": buckets if buckets and Path(buckets).exists() else None,
            "infosets": int(game.num_rows), "seconds": settings.holdem_seconds,
            "lbr_seconds": settings.lbr_seconds, "lbr_actions": "fcpa", "lbr_seed": lbr_seed,
            "deal_pairs": common, "threads": threads, "seed": seed,
            "candidates": [rows[i] for i in order]}


# --------------------------------------------------------------------------- reporting


def machine_info() -> dict[str, Any]:
    from holdem_lab.solver.solver import available_cores

    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                                text=True, timeout=10, check=False).stdout.strip() or None
    except OSError:
        commit = None
    return {"cpu_count": os.cpu_count(), "available_cores": available_cores(),
            "load_average_at_start": list(os.getloadavg()),
            "python": platform.python_version(), "processor": platform.processor(),
            "platform": platform.platform(), "commit": commit, "started_unix": time.time()}


def recommend(results: dict[str, Any]) -> dict[str, Any]:
    """MCCFRConfig's default from the last Leduc stage run, the Hold'em configs' from the
    Hold'em stage."""
    out: dict[str, Any] = {}
    for stage in ("confirm", "screen"):
        if results.get(stage, {}).get("cells"):
            best = results[stage]["cells"][0]
            out["leduc"] = {"stage": stage, "name": best["name"],
                            "settings": Cell.from_dict(best["cell"]).settings(),
                            "median_exploitability": best["median_exploitability"]}
            break
    current = Cell.from_config(MCCFRConfig())
    for stage in ("confirm", "screen"):
        rows = [row for row in results.get(stage, {}).get("cells", [])
                if Cell.from_dict(row["cell"]) == current]
        if rows:
            out["current_default"] = {"stage": stage, "name": current.name,
                                      "median_exploitability": rows[0]["median_exploitability"],
                                      "ratio_to_best": rows[0]["ratio_to_best"]}
            break
    candidates = results.get("holdem", {}).get("candidates")
    if candidates:
        best = candidates[0]
        out["holdem"] = {"name": best["name"],
                         "settings": Cell.from_dict(best["cell"]).settings(),
                         "mbb_per_hand": best["mbb_per_hand"], "ci95_mbb": best["ci95_mbb"]}
        if len(candidates) > 1:
            second = candidates[1]
            # The lead is real when the paired interval of the runner-up's difference excludes 0.
            out["holdem"]["separated_from_next"] = \
                second["vs_best_mbb"] - second["vs_best_ci95_mbb"] > 0
    return out


def _rate(value: float) -> str:
    return f"{value / 1e6:.2f}M" if value >= 1e6 else f"{value / 1e3:.0f}k"


def format_markdown(results: dict[str, Any]) -> str:
    lines: list[str] = []
    for stage, title in (("screen", "Leduc screen"), ("confirm", "Leduc confirm")):
        data = results.get(stage)
        if not data:
            continue
        engine = data.get("engine", {})
        lines += [f"**{title}**: {data['seconds']:g} s of training per run, "
                  f"{len(data['seeds'])} seeds, engine {engine.get('engine', '?')} "
                  f"(workers: {engine.get('workers', '?')}); exact exploitability of the "
                  "average policy.", "",
                  "| setting | it/s | exploitability, median (min–max) | × best "
                  "| pruned actions per run |",
                  "|---|---:|---|---:|---:|"]
        for row in data["cells"]:
            pruned = f"{statistics.median(r['pruned_actions'] for r in row['runs']):,.0f}" \
                if row["cell"]["pruning"] else "—"
            lines.append(f"| {row['name']} | {_rate(row['iterations_per_second'])} | "
                         f"{row['median_exploitability']:.5f} "
                         f"({row['min_exploitability']:.5f}–{row['max_exploitability']:.5f}) | "
                         f"{row['ratio_to_best']:.2f} | {pruned} |")
        lines.append("")
    skipped = results.get("skipped")
    if skipped and results.get("screen"):
        reasons: dict[str, list[str]] = {}
        for entry in skipped:
            reasons.setdefault(entry["reason"], []).append(entry["name"])
        for reason, names in reasons.items():
            lines.append(f"Not measured: {len(names)} cells (e.g. {names[0]}): {reason}.")
        lines.append("")
    data = results.get("holdem")
    if data:
        lines += [f"**Hold'em** ({Path(data['config']).name}, {data['abstraction']}, "
                  f"{data['infosets']:,} infosets): {data['seconds']:g} s of training each, "
                  f"then LBR ({data['lbr_actions']}) on the {data['deal_pairs']:,} deal pairs "
                  "every setting played; differences paired over those deals.", "",
                  "| setting | iterations | it/s | LBR mbb/hand (95% CI) | vs best (95% CI) |",
                  "|---|---:|---:|---|---|"]
        for row in data["candidates"]:
            versus = "—" if row is data["candidates"][0] else \
                f"{row['vs_best_mbb']:+.0f} ± {row['vs_best_ci95_mbb']:.0f}"
            lines.append(f"| {row['name']} ({row['label']}) | {row['iterations']:,} | "
                         f"{_rate(row['iterations_per_second'])} | {row['mbb_per_hand']:+.0f} "
                         f"± {row['ci95_mbb']:.0f} | {versus} |")
        lines.append("")
    advice = results.get("recommended", {})
    if "leduc" in advice:
        current = advice.get("current_default")
        versus = f" (today's default, {current['name']}: {current['ratio_to_best']:.2f}× its " \
            f"exploitability in the {current['stage']})" if current else ""
        lines.append(f"recommended: MCCFRConfig default (Leduc, {advice['leduc']['stage']}): "
                     + _settings_text(advice["leduc"]["settings"]) + versus)
    if "holdem" in advice:
        note = ""
        if "leduc" in advice and advice["holdem"]["settings"] != advice["leduc"]["settings"]:
            note = " (differs from Leduc's: the Hold'em configs carry their own setting)"
        if advice["holdem"].get("separated_from_next") is False:
            note += " (not separated from the next setting at 95%)"
        lines.append("recommended: Hold'em configs: "
                     + _settings_text(advice["holdem"]["settings"]) + note)
    return "\n".join(lines)


def _settings_text(settings: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value!r}" if isinstance(value, str) else f"{key}={value}"
                     for key, value in settings.items())


def print_table(results: dict[str, Any]) -> None:
    print(format_markdown(results))


def _write_json(path: Path, results: dict[str, Any]) -> None:
    from holdem_lab.checkpoint.fileio import atomic_write

    atomic_write(path, json.dumps(results, indent=2, default=str) + "\n", durable=False)


# --------------------------------------------------------------------------- the sweep


def plan_sweep(settings: Settings, grid: Grid, previous: dict[str, Any] | None = None
               ) -> tuple[dict[str, Any], dict[str, float]]:
    """The results a sweep starts from (machine, settings, grid, and the stages of `previous`
    it reuses) and its plan (`planned_seconds`). ValueError when a stage to run lacks the
    results of the stage before it, or the engine flags are invalid."""
    MCCFRConfig(engine=settings.engine, num_workers=settings.workers)  # type: ignore[arg-type]
    previous = previous or {}
    results: dict[str, Any] = {"benchmark": "bench_sweep", "machine": machine_info(),
                               "settings": settings.to_dict(),
                               "grid": [cell.to_dict() for cell in grid.cells],
                               "skipped": [{"name": cell.name, "cell": cell.to_dict(),
                                            "reason": reason} for cell, reason in grid.skipped]}
    for stage in STAGES:
        if stage not in settings.stages and stage in previous:
            results[stage] = previous[stage]
    if "screen" not in settings.stages and "screen" in previous:
        # The grid those results came from, not this invocation's.
        for key in ("grid", "skipped"):
            results[key] = previous.get(key, [])
    confirm_cells = None
    if "confirm" in settings.stages and "screen" not in settings.stages:
        if not results.get("screen", {}).get("cells"):
            raise ValueError("--stage confirm needs the screen's results: pass --previous FILE "
                             "(a JSON file of a sweep that ran the screen)")
        confirm_cells = len(select_for_confirm(results["screen"]["cells"], settings.top))
    if "holdem" in settings.stages and "confirm" not in settings.stages \
            and not (results.get("confirm") or results.get("screen")):
        raise ValueError("--stage holdem needs the confirm (or screen) results: pass "
                         "--previous FILE (a JSON file of a sweep that ran them)")
    plan = planned_seconds(settings, len(grid.cells), confirm_cells)
    results["plan"] = {"seconds": plan, "max_minutes": settings.max_minutes}
    return results, plan


def run(*, settings: Settings | None = None, grid: Grid | None = None, quick: bool = False,
        previous: dict[str, Any] | None = None, out: Path | None = None,
        progress: bool = True, **fields: Any) -> dict[str, Any]:
    """The sweep of `settings` (or of Settings `fields` given as keywords, over the quick
    budgets with `quick`) over `grid` (default `build_grid`, `quick_grid` with `quick`). Stages
    not run but needed come from `previous` (an earlier result). Raises BudgetError before
    training when the plan exceeds the limit. Writes `out` whole after every stage."""
    if settings is not None and fields:
        raise TypeError(f"pass settings or Settings fields, not both: {sorted(fields)}")
    if settings is None:
        settings = Settings(**{**(QUICK if quick else {}), **fields})
    grid = grid or (quick_grid() if quick else build_grid())
    results, plan = plan_sweep(settings, grid, previous)
    check_budget(settings, plan, len(grid.cells))
    base = MCCFRConfig(engine=settings.engine,  # type: ignore[arg-type]
                       num_workers=settings.workers)
    started = time.perf_counter()
    results["stage_seconds"] = {}

    def save(stage: str, stage_started: float) -> None:
        results["stage_seconds"][stage] = time.perf_counter() - stage_started
        results["recommended"] = recommend(results)
        results["elapsed_seconds"] = time.perf_counter() - started
        if out is not None:
            _write_json(out, results)

    if "screen" in settings.stages:
        stage_started = time.perf_counter()
        results["screen"] = leduc_stage(grid.cells, seconds=settings.seconds,
                                        seeds=range(settings.seeds), base=base, label="screen",
                                        progress=progress)
        save("screen", stage_started)
    if "confirm" in settings.stages:
        stage_started = time.perf_counter()
        cells = select_for_confirm(results["screen"]["cells"], settings.top)
        # Fresh seeds: a cell that led the screen on a lucky seed does not keep the luck.
        results["confirm"] = leduc_stage(cells, seconds=settings.confirm_seconds,
                                         seeds=range(1000, 1000 + settings.confirm_seeds),
                                         base=base, label="confirm", progress=progress)
        save("confirm", stage_started)
    if "holdem" in settings.stages:
        stage_started = time.perf_counter()
        source = results.get("confirm") or results["screen"]
        _, yaml_config = load_run_config(settings.holdem_config)
        candidates = holdem_candidates(source["cells"], settings.holdem_top,
                                       Cell.from_config(yaml_config))
        results["holdem"] = holdem_stage(candidates, settings=settings, progress=progress)
        save("holdem", stage_started)
    return results


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stage", choices=("all", *STAGES), default="all")
    parser.add_argument("--quick", action="store_true",
                        help="a reduced grid and 1-second budgets (a smoke run)")
    defaults = Settings()
    for name, kind in (("seconds", float), ("seeds", int), ("confirm_seconds", float),
                       ("confirm_seeds", int), ("top", int), ("holdem_top", int),
                       ("holdem_seconds", float), ("lbr_seconds", float),
                       ("max_minutes", float)):
        parser.add_argument("--" + name.replace("_", "-"), type=kind, default=None,
                            help=f"default {getattr(defaults, name)}"
                            + (f", {QUICK[name]} with --quick" if name in QUICK else ""))
    parser.add_argument("--engine", choices=("auto", "sharded", "sequential"), default="auto")
    parser.add_argument("--workers", type=int, default=None,
                        help="worker threads of the sharded engine (default: every core)")
    parser.add_argument("--config", type=Path, default=DEFAULT_HOLDEM_CONFIG,
                        help="the Hold'em run config of the holdem stage")
    parser.add_argument("--buckets", type=Path, default=None,
                        help="its bucket file (default: the one the config names)")
    parser.add_argument("--previous", type=Path, default=None,
                        help="a JSON file of an earlier sweep, for the stages not run now")
    parser.add_argument("--out", type=Path, default=Path("bench/sweep.json"))
    parser.add_argument("--markdown", type=Path, default=None,
                        help="also write the Markdown table here")
    parser.add_argument("--plan", action="store_true", help="print the plan and stop")
    return parser.parse_args(argv)


def settings_from_args(args: argparse.Namespace) -> Settings:
    values: dict[str, Any] = dict(QUICK) if args.quick else {}
    for name in ("seconds", "seeds", "confirm_seconds", "confirm_seeds", "top", "holdem_top",
                 "holdem_seconds", "lbr_seconds", "max_minutes"):
        if getattr(args, name) is not None:
            values[name] = getattr(args, name)
    for name in ("seeds", "confirm_seeds", "top"):
        if name in values and values[name] < 1:
            raise ValueError(f"--{name.replace('_', '-')} {values[name]}: must be >= 1")
    for name in ("seconds", "confirm_seconds", "holdem_seconds", "lbr_seconds", "max_minutes"):
        if name in values and not values[name] > 0:
            raise ValueError(f"--{name.replace('_', '-')} {values[name]}: must be > 0")
    if values.get("holdem_top", 0) < 0:
        raise ValueError(f"--holdem-top {values['holdem_top']}: must be >= 0")
    stages = STAGES if args.stage == "all" else (args.stage,)
    return Settings(stages=stages, engine=args.engine, workers=args.workers,
                    holdem_config=args.config, buckets=args.buckets, **values)


def _read_previous(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"--previous {path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("benchmark") != "bench_sweep":
        raise ValueError(f"--previous {path}: not a result of bench_sweep")
    for stage in STAGES:
        part = data.get(stage, {})
        rows = [*part.get("cells", []), *part.get("candidates", [])] \
            if isinstance(part, dict) else [None]
        for row in rows:
            Cell.from_dict(row.get("cell") if isinstance(row, dict) else None)
    return data


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    try:
        settings = settings_from_args(args)
        grid = quick_grid() if args.quick else build_grid()
        previous = _read_previous(args.previous) if args.previous else None
        _, plan = plan_sweep(settings, grid, previous)
        print(f"planned: {plan['total'] / 60:.1f} min ("
              + ", ".join(f"{k} {v / 60:.1f}" for k, v in plan.items() if k != "total")
              + f"); {len(grid.cells)} cells in the screen, {len(grid.skipped)} left out")
        if args.plan:
            check_budget(settings, plan, len(grid.cells))
            return 0
        load = os.getloadavg()[0]
        if load >= BUSY_LOAD:
            # Equal wall time is only fair when the runs have the cores to themselves.
            print(f"warning: the load average is {load:.2f}: other work on the machine "
                  "skews equal-time comparisons (the sharded engine most)", file=sys.stderr)
        results = run(settings=settings, grid=grid, previous=previous, out=args.out)
    except (BudgetError, ValueError, OSError, HoldemLabError) as exc:
        print(f"bench_sweep: {exc}", file=sys.stderr)
        return 2
    text = format_markdown(results)
    print(text)
    if args.markdown:
        from holdem_lab.checkpoint.fileio import atomic_write

        atomic_write(args.markdown, text + "\n", durable=False)
    print(f"figures saved to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
