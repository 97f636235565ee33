"""Every heads-up Hold'em chunk ends with a local best response against its blueprint, on the
same deals each time: in the checkpoint's metadata, in TensorBoard and in the analysis."""

from __future__ import annotations

from pathlib import Path

import pytest

from holdem_lab import MCCFRConfig
from holdem_lab.checkpoint import load_checkpoint
from holdem_lab.chunks import ChunkStatus, run_chunk
from holdem_lab.chunks.tensorboard import read_scalars
from holdem_lab.config import GameSpec
from holdem_lab.lab.analysis import NO_DATA, load_run, plot_exploitability, summarize
from holdem_lab.rundir import RunDir

SMALL_MENU = {"bet_sizes": [[1.0], [1.0], [1.0], [1.0]], "max_raises": [2, 1, 1, 1]}
SPEC = GameSpec(game="holdem", game_params={"stack": 40, "bet_sizing": SMALL_MENU})
CONFIG = MCCFRConfig(num_iterations=6000, enable_chunked_training=True,
                     chunk_size_iterations=2000, tensorboard_log_interval=1000,
                     evaluation_deal_pairs=0, lbr_hands=200, seed=5)


def test_each_chunk_records_lbr_on_the_same_deals(tmp_path: Path) -> None:
    ends = []
    while True:
        result = run_chunk(tmp_path, SPEC, CONFIG, progress=False)
        ends.append(result.iteration)
        if result.status is ChunkStatus.COMPLETE:
            break
    assert ends == [2000, 4000, 6000]
    records, problems = RunDir(tmp_path).records()
    assert problems == []
    lbr = [load_checkpoint(record.info).metadata["lbr"] for record in records]
    assert [entry["deal_pairs"] for entry in lbr] == [200, 200, 200]
    assert {entry["seed"] for entry in lbr} == {CONFIG.seed}  # one deal list, paired
    assert all(entry["actions"] == "fcpa" and entry["ci95_mbb"] > 0 for entry in lbr)

    scalars = read_scalars(RunDir(tmp_path).tensorboard)
    assert [step for step, _ in scalars["eval/lbr_mbb"]] == ends
    assert [value for _, value in scalars["eval/lbr_mbb"]] == pytest.approx(
        [entry["mbb_per_hand"] for entry in lbr], rel=1e-6)  # TensorBoard keeps float32
    assert [step for step, _ in scalars["eval/lbr_ci95_mbb"]] == ends

    data = load_run(tmp_path)
    assert data["series"]["lbr"]["steps"] == ends
    figure = plot_exploitability(data)
    ax = figure.axes[0]
    assert NO_DATA not in ax.get_title() and "Local best response" in ax.get_title()
    assert len(ax.lines) >= 1 and ax.collections  # the values and their confidence band
    assert [step for step, _, _ in summarize(data)["lbr_by_chunk"]] == ends


def test_lbr_can_be_turned_off(tmp_path: Path) -> None:
    config = MCCFRConfig(num_iterations=500, evaluation_deal_pairs=0, lbr_hands=0, seed=1)
    run_chunk(tmp_path, SPEC, config, progress=False, tensorboard=False)
    info = RunDir(tmp_path).latest_complete()
    assert info is not None and "lbr" not in load_checkpoint(info).metadata
    title = plot_exploitability(load_run(tmp_path)).axes[0].get_title()
    assert NO_DATA in title and "lbr_hands" in title
