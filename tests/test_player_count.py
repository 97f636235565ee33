"""One player count: the game's. The top-level `num_players` and `--num-players` follow it or
are refused naming both values; Kuhn and Leduc are 2-player games; Hold'em trains from the
command line with 3 players and refuses the 6-player default menu at once with its size."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hostile.runs import one_line_error, train_in_process

from holdem_lab.config import GameSpec, MCCFRConfig, config_from_mapping
from holdem_lab.errors import ConfigError
from holdem_lab.games.betting import BetSizing


@pytest.mark.parametrize(("values", "players"), [
    ({"game": "holdem", "num_players": 3}, 3),
    ({"game": "holdem", "game_params": {"num_players": 6}}, 6),
    ({"game": "holdem", "game_params": {"num_players": 4}, "num_players": 4}, 4),
    ({"game": "holdem"}, 2),
    ({"game": "leduc", "num_players": 2}, 2),
    ({}, 2),
])
def test_every_count_follows_the_game(values: dict[str, object], players: int) -> None:
    spec, config = config_from_mapping(values)
    assert spec.num_players == config.num_players == players
    if spec.game == "holdem" and players != 2:
        assert spec.game_params["num_players"] == players


def test_a_contradicting_count_is_refused_naming_both() -> None:
    with pytest.raises(ConfigError) as refused:
        config_from_mapping({"game": "holdem", "game_params": {"num_players": 2},
                             "num_players": 3})
    message = str(refused.value)
    assert message.startswith("num_players=3: the top-level num_players (or --num-players)")
    assert "game_params.num_players=2" in message
    assert refused.value.fields == ("num_players", "game_params")


@pytest.mark.parametrize("game", ["kuhn", "leduc"])
def test_small_games_refuse_other_counts(game: str) -> None:
    with pytest.raises(ConfigError, match=f"the game '{game}' is a 2-player game here"):
        config_from_mapping({"game": game, "num_players": 3})
    with pytest.raises(ConfigError, match=f"num_players=6: the game '{game}' is a 2-player"):
        GameSpec(game=game, game_params={"num_players": 6})


def test_the_solver_config_cannot_be_set_apart() -> None:
    with pytest.raises(ConfigError, match="must be an integer"):
        config_from_mapping({"game": "holdem", "num_players": "three"})
    assert MCCFRConfig(num_players=5).num_players == 5  # Python callers still set it directly


@pytest.mark.timeout(300)
def test_three_players_train_from_the_command_line(tmp_path: Path) -> None:
    code, out, err = train_in_process("--logdir", str(tmp_path / "run"), "--game", "holdem",
                                      "--num-players", "3", "--iters", "3", "--no-progress",
                                      "--no-tensorboard")
    assert (code, err) == (3, ""), err
    assert "Game: holdem, 50,272 infosets" in out  # the three-player default menu


@pytest.mark.timeout(300)
def test_six_players_train_from_the_command_line(tmp_path: Path) -> None:
    code, out, err = train_in_process("--logdir", str(tmp_path / "run"), "--game", "holdem",
                                      "--num-players", "6", "--iters", "3", "--no-progress",
                                      "--no-tensorboard")
    assert (code, err) == (3, ""), err
    assert "Game: holdem, 3,975,224 infosets" in out  # the six-player default menu


@pytest.mark.timeout(300)
def test_the_heads_up_menu_at_six_players_is_refused_with_its_size(tmp_path: Path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("game: holdem\ngame_params:\n  num_players: 6\n  bet_sizing: "
                      + json.dumps(BetSizing().as_dict()) + "\n")
    started = time.perf_counter()
    code, out, err = train_in_process("--logdir", str(tmp_path / "run"), "--config", str(config),
                                      "--iters", "3", "--no-progress", "--no-tensorboard")
    elapsed = time.perf_counter() - started
    assert code == 2, (out, err)
    line = one_line_error(err)
    assert "the betting tree has 120,745,299 nodes, over max_nodes=20000000" in line
    assert "river" in line and "lie below" in line
    assert not (tmp_path / "run").exists()
    assert elapsed < 120, elapsed


def test_a_contradiction_on_the_command_line_names_the_flag(tmp_path: Path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("game: holdem\ngame_params:\n  num_players: 2\n")
    code, _, err = train_in_process("--logdir", str(tmp_path / "run"), "--config", str(config),
                                    "--num-players", "3", "--iters", "1", "--no-progress")
    assert code == 2
    line = one_line_error(err)
    assert "num_players=3" in line and "game_params.num_players=2" in line
    assert "(flags: --num-players)" in line
