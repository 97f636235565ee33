"""A Hold'em game with big-blind antes, end to end: load_game, the chunk runner, the blueprint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from holdem_lab import MCCFRConfig, Solver, load_game
from holdem_lab.checkpoint import load_checkpoint
from holdem_lab.chunks import ChunkStatus, run_chunk
from holdem_lab.chunks.runner import latest_checkpoint
from holdem_lab.config import GameSpec, load_run_config
from holdem_lab.errors import GameError
from holdem_lab.eval.blueprint import load_blueprint, street_totals
from holdem_lab.games import build_game
from holdem_lab.games.betting import holdem_tree_params

TINY_MENU = {"bet_sizes": [[1.0], [], [], []], "max_raises": [1, 0, 0, 0]}
BB_ANTE: dict[str, Any] = {"num_players": 3, "stack": 30, "small_blind": 1, "big_blind": 2,
                           "ante": 2, "ante_type": "big_blind", "bet_sizing": TINY_MENU}


def test_load_game_builds_a_big_blind_ante_game_with_its_own_identity() -> None:
    game = load_game("holdem", **BB_ANTE)
    assert game.params["ante_type"] == "big_blind"
    assert game.tree.contrib[0].tolist() == [1, 4, 0]  # blind 2 and the table's ante of 2
    assert holdem_tree_params(game.tree).table.big_blind_ante
    uniform = load_game("holdem", **{**BB_ANTE, "ante_type": None})
    assert "ante_type" not in uniform.params  # games from before ante types keep their identity
    assert uniform.tree.contrib[0].tolist() == [3, 4, 2]
    with pytest.raises(GameError, match="ante_type must be one of none, uniform, big_blind"):
        load_game("holdem", **{**BB_ANTE, "ante_type": "button"})


def test_a_run_config_file_sets_the_ante_type(tmp_path: Path) -> None:
    path = tmp_path / "bba.yaml"
    path.write_text(
        "game: holdem\n"
        "game_params:\n"
        "  num_players: 3\n  stack: 30\n  small_blind: 1\n  big_blind: 2\n  ante: 2\n"
        "  ante_type: big_blind\n"
        "  bet_sizing: {bet_sizes: [[1.0], [], [], []], max_raises: [1, 0, 0, 0]}\n"
        "num_players: 3\nnum_iterations: 100\n"
    )
    spec, _ = load_run_config(path)
    game = build_game(spec)
    assert game.params["ante_type"] == "big_blind"
    assert game.tree.dead_money == 2 and game.tree.dead_money_seat == 1


@pytest.mark.parametrize("sampling", ["external", "outcome"])
def test_big_blind_ante_game_trains_through_the_chunk_runner(tmp_path: Path,
                                                              sampling: str) -> None:
    spec = GameSpec(game="holdem", game_params=BB_ANTE)
    config = MCCFRConfig(num_players=3, num_iterations=400, enable_chunked_training=True,
                         chunk_size_iterations=200, checkpoint_interval=100, sampling=sampling,
                         seed=3)
    while run_chunk(tmp_path, spec, config, progress=False,
                    tensorboard=False).status is not ChunkStatus.COMPLETE:
        pass
    reference = Solver(load_game("holdem", **BB_ANTE), config)
    reference.run(400)
    info = latest_checkpoint(tmp_path)
    assert info is not None
    loaded = load_checkpoint(info)
    assert np.array_equal(loaded.state["regrets"], reference.regrets)
    assert np.any(reference.regrets != 0)
    blueprint = load_blueprint(tmp_path)
    assert blueprint.iteration == 400
    assert blueprint.game.params["ante_type"] == "big_blind"
    policy = reference.average_policy()
    assert np.allclose(policy.sum(axis=1), 1.0)
    # Raises in the tree's unit (chips in the whole hand, the big blind's dead ante included)
    # turn into the street totals the rules engine plays.
    assert [str(a) for a in street_totals(blueprint.game, ["c", "c", "r8"])] == ["c", "c", "r6"]
