"""Multiway duplicate matches: one seat of agent A against n-1 copies of agent B, every rotation
of A's seat dealt on the same cards."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from holdem_lab import MCCFRConfig, load_game
from holdem_lab.checkpoint import load_checkpoint
from holdem_lab.chunks import ChunkStatus, run_chunk
from holdem_lab.chunks.runner import latest_checkpoint
from holdem_lab.config import GameSpec
from holdem_lab.errors import GameError
from holdem_lab.eval.match import play_multiway_match, rotation_scores
from holdem_lab.lab.analysis import load_run, plot_evaluation

TINY_MENU = {"bet_sizes": [[1.0], [1.0], [1.0], [1.0]], "max_raises": [2, 1, 1, 1]}
BASELINES = ("uniform", "always_call", "always_raise_pot", "always_fold", "equity_threshold")


@cache
def tiny_game(players: int) -> object:
    return load_game("holdem", num_players=players, stack=20, bet_sizing=TINY_MENU)


@pytest.mark.parametrize("players", [3, 6])
@pytest.mark.parametrize("agent", BASELINES)
def test_identical_agents_score_zero_on_every_deal(players: int, agent: str) -> None:
    scores = rotation_scores(tiny_game(players), agent, agent, deals=300, seed=7)  # type: ignore[arg-type]
    assert scores.shape == (300, players)
    assert np.abs(scores).max() > 0.0  # the seats did win and lose chips
    # The rotations of one deal are the same hand from every seat: its payoffs sum to zero
    # (exactly, but for the rounding of a pot split three ways).
    totals = scores.sum(axis=1)
    assert np.abs(totals).max() < 1e-9
    assert (totals == 0.0).mean() > 0.95


def test_identical_agents_score_zero_with_big_blind_antes() -> None:
    game = load_game("holdem", num_players=3, stack=20, ante=1, ante_type="big_blind",
                     bet_sizing=TINY_MENU)
    scores = rotation_scores(game, "uniform", "uniform", deals=300, seed=5)
    assert np.abs(scores.sum(axis=1)).max() < 1e-9
    assert np.abs(scores).max() > 0.0


def test_identical_policies_score_zero_as_blueprints() -> None:
    game = tiny_game(4)
    rng = np.random.default_rng(3)
    policy = rng.random((game.num_rows, game.max_actions))  # type: ignore[attr-defined]
    policy /= policy.sum(axis=1, keepdims=True)
    result = play_multiway_match(game, policy, policy.copy(), deals=200, seed=2)  # type: ignore[arg-type]
    assert abs(result.mbb_per_hand) < 1e-9 and result.ci95_mbb < 1e-9
    assert [s.position for s in result.seats] == ["SB", "BB", "CO", "BTN"]


@pytest.mark.parametrize("players", [3, 6])
@pytest.mark.parametrize("opponent", ["always_call", "uniform"])
def test_folding_to_every_bet_loses(players: int, opponent: str) -> None:
    result = play_multiway_match(tiny_game(players), "always_fold", opponent,  # type: ignore[arg-type]
                                 deals=1000, seed=1)
    assert result.high < 0.0
    assert result.num_players == players and len(result.seats) == players
    small_blind = result.seats[0]
    # Seat 0 posts the small blind (half a big blind) and folds it to any completion.
    assert small_blind.position == "SB" and small_blind.mbb_per_hand == pytest.approx(-500.0)
    per_seat = np.mean([s.mbb_per_hand for s in result.seats])
    assert result.mbb_per_hand == pytest.approx(per_seat)


def test_reproducible_with_a_seed() -> None:
    game = tiny_game(3)
    first = play_multiway_match(game, "equity_threshold", "uniform", deals=300, seed=11)  # type: ignore[arg-type]
    again = play_multiway_match(game, "equity_threshold", "uniform", deals=300, seed=11)  # type: ignore[arg-type]
    other = play_multiway_match(game, "equity_threshold", "uniform", deals=300, seed=12)  # type: ignore[arg-type]
    assert first == again
    assert other.mbb_per_hand != first.mbb_per_hand


def test_multiway_match_refuses_bad_input() -> None:
    with pytest.raises(GameError, match="3 to 6 players"):
        play_multiway_match(load_game("holdem", bet_sizing=TINY_MENU), "uniform", "uniform")
    with pytest.raises(GameError, match="deals=1"):
        play_multiway_match(tiny_game(3), "uniform", "uniform", deals=1)  # type: ignore[arg-type]
    with pytest.raises(GameError, match="unknown agent"):
        play_multiway_match(tiny_game(3), "nobody", "uniform", deals=10)  # type: ignore[arg-type]
    with pytest.raises(GameError, match="does not fit"):
        play_multiway_match(tiny_game(3), np.ones((2, 2)), "uniform", deals=10)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def three_player_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    logdir = tmp_path_factory.mktemp("threeway")
    spec = GameSpec(game="holdem", game_params={"num_players": 3, "stack": 20,
                                                "bet_sizing": TINY_MENU})
    config = MCCFRConfig(num_players=3, num_iterations=400, enable_chunked_training=True,
                         chunk_size_iterations=200, checkpoint_interval=200,
                         evaluation_deal_pairs=200, seed=4, batch_iterations=100)
    while run_chunk(logdir, spec, config, progress=False,
                    tensorboard=False).status is not ChunkStatus.COMPLETE:
        pass
    return logdir


def test_a_three_player_chunk_records_its_matches(three_player_run: Path) -> None:
    info = latest_checkpoint(three_player_run)
    assert info is not None
    metadata = load_checkpoint(info).metadata
    evaluation = metadata["evaluation"]
    assert set(evaluation) == {"uniform", "always_call", "always_raise_pot", "equity_threshold"}
    for result in evaluation.values():
        assert set(result) == {"mbb_per_hand", "ci95_mbb", "deal_pairs"}
        assert result["deal_pairs"] == 200 and result["ci95_mbb"] > 0.0
    seats = metadata["evaluation_seats"]["uniform"]
    assert list(seats) == ["SB", "BB", "BTN"]
    assert np.mean([s["mbb_per_hand"] for s in seats.values()]) == pytest.approx(
        evaluation["uniform"]["mbb_per_hand"])
    data = load_run(three_player_run)
    assert data["series"]["evaluation/uniform"]["steps"] == [200, 400]
    title = plot_evaluation(data).axes[0].get_title()
    assert title.startswith("3-player")


def test_holdem_eval_plays_a_three_player_run(three_player_run: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from holdem_lab.cli.evaluate import main

    assert main([str(three_player_run), "--against", "always_fold", "uniform",
                 "--hands", "300", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["agent_b"] for r in report] == ["always_fold", "uniform"]
    for record in report:
        assert record["num_players"] == 3 and record["deals"] == 300
        assert record["ci95_low"] < record["mbb_per_hand"] < record["ci95_high"]
        assert [s["position"] for s in record["seats"]] == ["SB", "BB", "BTN"]
    assert main([str(three_player_run), "--against", "always_call", "--hands", "100",
                 "--seed", "3"]) == 0
    text = capsys.readouterr().out
    assert "blueprint@400 vs 2x always_call:" in text and "BTN" in text
