"""The settings sweep (bench/bench_sweep.py): its grid, its plan and refusal, its ranking, and
a tiny sweep end to end."""

from __future__ import annotations

import importlib.util
import json
import math
import re
import sys
from pathlib import Path

import pytest

from holdem_lab import MCCFRConfig, Solver, load_game

REPO = Path(__file__).resolve().parents[1]


def _load_sweep():
    # bench/ is not an installed package: load the script by its path.
    spec = importlib.util.spec_from_file_location("bench_sweep", REPO / "bench" / "bench_sweep.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


sweep = _load_sweep()
Cell = sweep.Cell

TINY = (Cell("external", "none"), Cell("outcome", "linear", 10))
DEFAULT = Cell.from_config(MCCFRConfig())


def test_default_grid_covers_the_issue_and_leaves_out_only_what_cannot_matter():
    grid = sweep.build_grid()
    names = [cell.name for cell in grid.cells]
    assert len(names) == len(set(names))
    for cell in grid.cells:
        config = cell.config(MCCFRConfig(), 3)
        assert (config.sampling, config.discount_mode, config.enable_pruning) == \
            (cell.sampling, cell.discount_mode, cell.pruning)
    # Every scheme x discounting without pruning is measured, the published DCFR among them.
    unpruned = {cell for cell in grid.cells if not cell.pruning}
    assert len(unpruned) == 2 * (1 + 3 + 3 * 4)
    assert Cell("external", "dcfr", 1, (1.5, 0.0, 2.0)) in unpruned
    assert Cell("outcome", "dcfr", 1000, (1.0, 1.0, 1.0)) in unpruned
    # Pruning where it can act soonest: external sampling without DCFR.
    pruned = {cell for cell in grid.cells if cell.pruning}
    assert pruned == {Cell("external", "none", 1, None, True)} | {
        Cell("external", "linear", interval, None, True) for interval in (1, 10, 100)}
    skipped = {cell: reason for cell, reason in grid.skipped}
    assert all(cell.pruning for cell in skipped)
    assert "outcome sampling" in skipped[Cell("outcome", "none", 1, None, True)]
    assert "Hold'em stage" in skipped[Cell("external", "dcfr", 10, (1.5, 0.5, 2.0), True)]
    assert len(grid.cells) + len(grid.skipped) == 2 * 2 * 16


def test_an_invalid_cell_is_left_out_with_the_config_error():
    grid = sweep.build_grid(samplings=("external",), linear_intervals=(0,), dcfr_parameters=(),
                            pruning=(False,))
    assert [cell.name for cell in grid.cells] == ["external none"]
    (cell, reason), = grid.skipped
    assert cell.discount_interval == 0 and "discount_interval" in reason


def test_the_default_sweep_is_planned_under_an_hour():
    grid = sweep.build_grid()
    plan = sweep.planned_seconds(sweep.Settings(), len(grid.cells))
    assert set(plan) == {"screen", "confirm", "holdem", "total"}
    assert plan["total"] == pytest.approx(plan["screen"] + plan["confirm"] + plan["holdem"])
    # The training budgets alone: 3 seeds x 10 s per cell, 5 x 60 s for 4 cells.
    assert plan["screen"] >= len(grid.cells) * 30
    assert plan["confirm"] >= 4 * 5 * 60
    assert plan["total"] < 3600
    sweep.check_budget(sweep.Settings(), plan, len(grid.cells))


def test_an_oversized_sweep_is_refused_with_what_would_fit(tmp_path):
    grid = sweep.build_grid()
    settings = sweep.Settings(seconds=60.0)
    plan = sweep.planned_seconds(settings, len(grid.cells))
    with pytest.raises(sweep.BudgetError, match="over --max-minutes 60") as caught:
        sweep.check_budget(settings, plan, len(grid.cells))
    fit = float(re.search(r"--seconds ([0-9.]+) would fit", str(caught.value)).group(1))
    assert 1.0 < fit < 60.0
    smaller = sweep.Settings(seconds=fit)
    sweep.check_budget(smaller, sweep.planned_seconds(smaller, len(grid.cells)),
                       len(grid.cells))
    # run() refuses before training anything or writing a file.
    out = tmp_path / "sweep.json"
    with pytest.raises(sweep.BudgetError):
        sweep.run(settings=settings, grid=grid, out=out, progress=False)
    assert not out.exists()
    assert sweep.main(["--plan", "--seconds", "60", "--out", str(out)]) == 2
    assert sweep.main(["--plan"]) == 0
    assert sweep.main(["--plan", "--stage", "confirm"]) == 2  # without --previous
    (tmp_path / "other.json").write_text('{"benchmark": "bench_mccfr"}')
    assert sweep.main(["--plan", "--previous", str(tmp_path / "other.json")]) == 2
    assert not out.exists()


def test_ranking_picks_the_lowest_median_then_the_lowest_worst_seed():
    def row(name, values):
        cell = Cell("external", "linear", int(name))
        runs = [{"seed": i, "iterations": 1000, "seconds": 1.0, "exploitability": v}
                for i, v in enumerate(values)]
        return sweep.summarize(cell, runs)

    rows = [row("1", [0.05, 0.01, 0.03]), row("2", [0.02, 0.04, 0.02]),
            row("3", [0.02, 0.02, 0.09]), row("4", [math.nan, math.nan, math.nan])]
    ranked = sweep.rank(rows)
    assert [r["name"] for r in ranked[:3]] == ["external linear/2", "external linear/3",
                                               "external linear/1"]
    assert ranked[0]["median_exploitability"] == 0.02
    assert ranked[0]["min_exploitability"] == 0.02 and ranked[0]["max_exploitability"] == 0.04
    assert ranked[0]["ratio_to_best"] == 1.0
    assert ranked[2]["ratio_to_best"] == pytest.approx(1.5)
    assert ranked[-1]["name"] == "external linear/4"


def test_confirm_takes_one_cell_per_setting_and_holdem_adds_the_pruning_twins():
    order = [Cell("external", "linear", 10, None, True), Cell("external", "linear", 10),
             Cell("outcome", "none"), Cell("external", "none", 1, None, True),
             Cell("external", "none")]
    ranked = [{"cell": cell.to_dict()} for cell in order]
    assert sweep.select_for_confirm(ranked, 2) == [order[0], order[2]]
    assert sweep.select_for_confirm(ranked, 9) == [order[0], order[2], order[3]]
    shipped = Cell("external", "linear", 10_000, None, True)
    assert sweep.holdem_candidates(ranked, 2, shipped) == [
        ("confirm #1", order[1]), ("confirm #1", order[0]), ("confirm #2", order[2]),
        ("config's own", shipped)]
    # The config's own setting is not run twice.
    assert sweep.holdem_candidates(ranked[3:], 1, order[3]) == [
        ("confirm #1", order[4]), ("confirm #1", order[3])]


def test_cells_round_trip_and_bad_cells_are_refused():
    for cell in (*sweep.build_grid().cells, *TINY):
        assert Cell.from_dict(json.loads(json.dumps(cell.to_dict()))) == cell
    shipped = MCCFRConfig(discount_mode="linear", discount_interval=10_000, enable_pruning=True)
    assert Cell.from_config(shipped) == Cell("external", "linear", 10_000, None, True)
    for bad in ({"sampling": "external"}, "external none", None,
                {**TINY[0].to_dict(), "discount_mode": "cubic"},
                {**TINY[0].to_dict(), "dcfr": [1.0, 2.0]}):
        with pytest.raises(ValueError):
            Cell.from_dict(bad)


def test_training_stops_at_the_budget_by_the_clock_it_is_given():
    solver = Solver(load_game("leduc"), MCCFRConfig(discount_mode="none", seed=1))
    ticks = iter(range(1000))

    def clock():  # every run() call "takes" 0.1 s
        return next(ticks) * 0.1

    result = sweep.train_for(solver, 0.35, clock=clock)
    assert result.seconds == pytest.approx(0.4)
    assert result.iterations == solver.iteration > sweep.FIRST_SLICE_ITERATIONS


def test_quick_flag_sets_one_second_budgets_and_explicit_flags_win():
    settings = sweep.settings_from_args(sweep._parse(["--quick", "--seconds", "3"]))
    assert settings.seconds == 3.0 and settings.confirm_seconds == 1.0
    assert settings.stages == sweep.STAGES
    full = sweep.settings_from_args(sweep._parse(["--stage", "confirm", "--workers", "2"]))
    assert full.stages == ("confirm",) and full.workers == 2 and full.seconds == 10.0
    with pytest.raises(ValueError, match="--seeds 0"):
        sweep.settings_from_args(sweep._parse(["--seeds", "0"]))


def test_a_tiny_sweep_measures_ranks_confirms_and_recommends(tmp_path):
    out = tmp_path / "sweep.json"
    grid = sweep.Grid((*TINY, DEFAULT, Cell("external", "none", 1, None, True)))
    results = sweep.run(grid=grid, out=out, progress=False, stages=("screen", "confirm"),
                        seconds=0.2, seeds=2, confirm_seconds=0.2, confirm_seeds=2, top=1)
    saved = json.loads(out.read_text())
    assert saved["recommended"] == json.loads(json.dumps(results["recommended"]))
    assert saved["machine"]["cpu_count"] >= 1
    assert len(saved["machine"]["load_average_at_start"]) == 3
    assert saved["plan"]["seconds"]["total"] > 0
    screen = saved["screen"]
    assert screen["seeds"] == [0, 1] and screen["engine"]["engine"] == "sequential"
    assert {row["name"] for row in screen["cells"]} == {cell.name for cell in grid.cells}
    for stage in ("screen", "confirm"):
        for row in saved[stage]["cells"]:
            values = [run["exploitability"] for run in row["runs"]]
            assert all(math.isfinite(v) and v > 0 for v in values)
            assert row["median_exploitability"] == pytest.approx(sorted(values)[0] / 2
                                                                 + sorted(values)[1] / 2)
            for run in row["runs"]:
                assert run["iterations"] > 0 and run["seconds"] >= 0.2
    medians = [row["median_exploitability"] for row in screen["cells"]]
    assert medians == sorted(medians)
    confirm = saved["confirm"]
    assert confirm["seeds"] == [1000, 1001]
    assert [row["cell"] for row in confirm["cells"]] == [screen["cells"][0]["cell"]]
    assert saved["recommended"]["leduc"]["stage"] == "confirm"
    assert saved["recommended"]["leduc"]["name"] == screen["cells"][0]["name"]
    current = saved["recommended"]["current_default"]
    row, = (r for r in screen["cells"] if r["name"] == DEFAULT.name)
    assert current["ratio_to_best"] == row["ratio_to_best"] >= 1.0
    assert set(saved["stage_seconds"]) == {"screen", "confirm"}
    text = sweep.format_markdown(saved)
    rows = [line.split(" | ")[0][2:] for line in text.splitlines()
            if line.startswith("| ") and not line.startswith("| setting")]
    assert sorted(rows) == sorted([cell.name for cell in grid.cells]
                                  + [confirm["cells"][0]["name"]])
    assert "recommended: MCCFRConfig default (Leduc, confirm)" in text
    assert f"today's default, {DEFAULT.name}" in text

    # The confirm stage alone reuses the screen of a previous result, and needs one.
    again = sweep.run(previous=saved, progress=False, stages=("confirm",), confirm_seconds=0.2,
                      confirm_seeds=1, top=2, grid=sweep.Grid(()))
    assert again["screen"] == saved["screen"] and again["grid"] == saved["grid"]
    expected = sweep.select_for_confirm(saved["screen"]["cells"], 2)
    assert [Cell.from_dict(row["cell"]) for row in again["confirm"]["cells"]] != []
    assert {row["name"] for row in again["confirm"]["cells"]} == {c.name for c in expected}
    with pytest.raises(ValueError, match="--previous"):
        sweep.run(progress=False, stages=("confirm",))


def test_the_holdem_stage_scores_every_candidate_on_the_same_deals(tmp_path):
    config = tmp_path / "tiny_hu.yaml"
    config.write_text("game: holdem\ngame_params:\n  num_players: 2\n  stack: 20\n"
                      "  small_blind: 1\n  big_blind: 2\n"
                      "sampling: external\ndiscount_mode: linear\ndiscount_interval: 100\n")
    settings = sweep.Settings(stages=("holdem",), holdem_top=1, holdem_seconds=0.3,
                              lbr_seconds=0.3, holdem_config=config)
    shipped = Cell("external", "linear", 100)
    candidates = [("confirm #1", TINY[0]), ("config's own", shipped)]
    data = sweep.holdem_stage(candidates, settings=settings, progress=False)
    rows = data["candidates"]
    assert {row["label"] for row in rows} == {"confirm #1", "config's own"}
    assert data["deal_pairs"] >= 2
    assert data["deal_pairs"] == min(row["lbr_own"]["deal_pairs"] for row in rows)
    assert rows[0]["mbb_per_hand"] <= rows[1]["mbb_per_hand"]
    assert rows[0]["vs_best_mbb"] == 0.0
    assert rows[1]["vs_best_mbb"] == pytest.approx(rows[1]["mbb_per_hand"]
                                                   - rows[0]["mbb_per_hand"])
    assert all(row["iterations"] > 0 and math.isfinite(row["ci95_mbb"]) for row in rows)
    results = {"holdem": data}
    results["recommended"] = sweep.recommend(results)
    assert results["recommended"]["holdem"]["name"] == rows[0]["name"]
    assert "recommended: Hold'em configs" in sweep.format_markdown(results)
