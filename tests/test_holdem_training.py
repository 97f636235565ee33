"""Hold'em in the engine: the solver trains heads-up and multi-way trees, learns something real
(measured against baselines with duplicate deals), and continues bit for bit across chunks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from holdem_lab import MCCFRConfig, Solver, load_game
from holdem_lab.cards.isomorphism import preflop_class_of_name
from holdem_lab.checkpoint import load_checkpoint
from holdem_lab.chunks import ChunkStatus, run_chunk
from holdem_lab.chunks.runner import latest_checkpoint
from holdem_lab.config import GameSpec
from holdem_lab.errors import ConfigError, GameError
from holdem_lab.eval.blueprint import load_blueprint
from holdem_lab.eval.match import play_match
from holdem_lab.games.tree import BET_RAISE, FOLD

SMALL_MENU = {"bet_sizes": [[1.0], [1.0], [1.0], [1.0]], "max_raises": [2, 1, 1, 1]}


@pytest.fixture(scope="module")
def trained() -> tuple[object, np.ndarray]:
    game = load_game("holdem", bet_sizing=SMALL_MENU)
    solver = Solver(game, MCCFRConfig(seed=0, discount_mode="linear", discount_interval=1000))
    solver.run(150_000)
    return game, solver.average_policy()


def test_blueprint_beats_weak_baselines(trained: tuple[object, np.ndarray]) -> None:
    game, policy = trained
    for baseline in ("uniform", "always_call"):
        result = play_match(game, policy, baseline, deal_pairs=6000, seed=11)  # type: ignore
        assert result.low > 0.0, result.summary()


def test_blueprint_folds_trash_more_than_premium_facing_a_raise(
        trained: tuple[object, np.ndarray]) -> None:
    game, policy = trained
    tree = game.tree  # type: ignore[attr-defined]
    # The big blind's node after the small blind raised preflop (heads-up: seat 1 acts first).
    root = 0
    raise_action = next(a for a in range(tree.num_actions[root])
                        if tree.action_kind[root, a] >= BET_RAISE)
    node = int(tree.children[root, raise_action])
    assert tree.player[node] == 0 and tree.round[node] == 0
    fold = next(a for a in range(tree.num_actions[node]) if tree.action_kind[node, a] == FOLD)
    worst = ["72o", "82o", "32o", "42o", "73o"]
    best = ["AA", "KK", "QQ", "AKs", "AKo"]

    def fold_rate(names: list[str]) -> float:
        rows = [game.row_of(node, preflop_class_of_name(n)) for n in names]  # type: ignore
        return float(np.mean(policy[rows, fold]))

    assert fold_rate(worst) > fold_rate(best) + 0.3


def test_multiway_tree_trains() -> None:
    game = load_game("holdem", num_players=3, bet_sizing=SMALL_MENU)
    solver = Solver(game, MCCFRConfig(num_players=3, seed=1, sampling="outcome"))
    solver.run(2000)
    policy = solver.average_policy()
    assert np.allclose(policy.sum(axis=1), 1.0)
    assert solver.statistics()["nodes_visited"] > 2000


@pytest.mark.parametrize("sampling", ["external", "outcome"])
def test_holdem_chunked_equals_unchunked(tmp_path: Path, sampling: str) -> None:
    spec = GameSpec(game="holdem", game_params={"bet_sizing": SMALL_MENU})
    config = MCCFRConfig(num_iterations=700, enable_chunked_training=True,
                         chunk_size_iterations=300, checkpoint_interval=125, sampling=sampling,
                         discount_mode="dcfr", discount_interval=50, enable_pruning=True,
                         prune_warmup_iterations=100, prune_threshold=-50.0,
                         regret_floor=-60.0, epsilon_schedule=((0, 0.6), (400, 0.3)), seed=5)
    while run_chunk(tmp_path, spec, config, progress=False,
                    tensorboard=False).status is not ChunkStatus.COMPLETE:
        pass
    reference = Solver(load_game("holdem", bet_sizing=SMALL_MENU), config)
    reference.run(700)
    info = latest_checkpoint(tmp_path)
    assert info is not None
    loaded = load_checkpoint(info)
    assert np.array_equal(loaded.state["regrets"], reference.regrets)
    assert np.array_equal(loaded.state["strategy_sum"], reference.strategy_sum)
    blueprint = load_blueprint(tmp_path)
    assert blueprint.iteration == 700
    grid = blueprint.preflop_grid(0)
    assert grid.shape == (13, 13, game_actions(blueprint.game, 0))
    assert np.allclose(grid.sum(axis=2), 1.0)


def game_actions(game: object, node: int) -> int:
    return int(game.tree.num_actions[node])  # type: ignore[attr-defined]


def test_blueprint_answers_real_situations_through_translation(
        trained: tuple[object, np.ndarray]) -> None:
    from holdem_lab.eval.blueprint import Blueprint

    game, policy = trained
    blueprint = Blueprint(game=game, policy=policy, iteration=0, source="test")  # type: ignore
    first = blueprint.query("AsAh")
    assert set(first) == set(blueprint.node_actions(0))
    assert sum(first.values()) == pytest.approx(1.0)
    # An off-tree open (to 7 chips) is translated onto the tree's sizes.
    facing = blueprint.query("7c2d", actions=["r7"])
    assert "fold" in facing and sum(facing.values()) == pytest.approx(1.0)
    assert facing["fold"] > blueprint.query("AsAh", actions=["r7"])["fold"]
    flop = blueprint.query("AsKs", "2c7d9h", ["c", "x"])
    assert sum(flop.values()) == pytest.approx(1.0)
    with pytest.raises(GameError, match="shows 3 board cards"):
        blueprint.query("AsKs", "", ["c", "x"])
    with pytest.raises(GameError, match="a card appears twice"):
        blueprint.bucket_of("AsKs", "As7d9h")


def test_a_game_too_big_for_memory_is_refused_with_the_figure() -> None:
    from holdem_lab.solver.solver import check_memory, memory_needed

    game = load_game("holdem", bet_sizing=SMALL_MENU)
    needed = memory_needed(game)
    assert needed >= 3 * game.num_rows * game.max_actions * 8
    assert check_memory(game, available=needed) == needed
    with pytest.raises(ConfigError, match=r"needs 0\.\d\d GiB for [\d,]+ infosets"):
        check_memory(game, available=needed - 1)


def test_holdem_rows_are_bucket_major_per_player_and_round() -> None:
    game = load_game("holdem", bet_sizing=SMALL_MENU)
    tree = game.tree
    rows = np.concatenate([np.asarray(game.rows_of_node(int(n))) for n in tree.decision_nodes])
    assert np.array_equal(np.sort(rows), np.arange(game.num_rows))  # every row exactly once
    for player in range(tree.num_players):
        nodes = [int(n) for n in tree.decision_nodes
                 if tree.player[n] == player and tree.round[n] == 0]
        for bucket in (0, 1, 168):
            block = [game.row_of(n, bucket) for n in nodes]
            # one bucket's rows at every preflop node of the player sit side by side
            assert block == list(range(block[0], block[0] + len(nodes)))
    for node in map(int, tree.decision_nodes[:20]):
        assert list(game.rows_of_node(node)) == [
            game.row_of(node, b) for b in range(game.num_buckets[int(tree.round[node])])]
    mask = game.row_action_mask()
    for node in map(int, tree.decision_nodes):
        assert mask[list(game.rows_of_node(node))].sum(axis=1).tolist() == \
            [int(tree.num_actions[node])] * game.num_buckets[int(tree.round[node])]


def test_small_games_keep_each_nodes_rows_together() -> None:
    for name in ("kuhn", "leduc"):
        game = load_game(name)
        offsets = [int(game.row_offset[n]) for n in game.tree.decision_nodes]
        sizes = [game.num_buckets[int(game.tree.round[n])] for n in game.tree.decision_nodes]
        assert offsets == list(np.cumsum([0, *sizes[:-1]]))
        assert all(game.rows_of_node(int(n)).step == 1 for n in game.tree.decision_nodes)
