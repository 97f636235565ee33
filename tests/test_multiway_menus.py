"""Menus for 3 to 6 players: the multiway menu (used while more than two players remain), the
default menu of each player count, and the shipped three- and six-player configs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from holdem_lab import MCCFRConfig, Solver, load_game
from holdem_lab.checkpoint import load_checkpoint
from holdem_lab.chunks import ChunkStatus, run_chunk
from holdem_lab.chunks.runner import latest_checkpoint
from holdem_lab.config import GameSpec, load_run_config
from holdem_lab.errors import GameError
from holdem_lab.games.betting import (
    DEFAULT_MAX_NODES,
    BetSizing,
    MenuEntry,
    TreeSize,
    build_holdem_tree,
    default_bet_sizing,
    holdem_tree_size,
)
from holdem_lab.games.holdem import PREFLOP_CLASSES, holdem_size
from holdem_lab.games.tree import BettingTree
from holdem_lab.solver.solver import solver_bytes

CONFIGS = Path(__file__).resolve().parents[1] / "holdem_lab" / "configs"
LIMIT = 16 * 2**30


def _default_bucket_counts() -> tuple[int, ...]:
    """Buckets per round of buckets_default.yaml (the shipped configs' card abstraction)."""
    spec = yaml.safe_load((CONFIGS / "buckets_default.yaml").read_text())
    counts = [PREFLOP_CLASSES if spec["preflop"] == "lossless" else int(spec["preflop"])]
    return tuple(counts + [int(spec[r]) for r in ("flop", "turn", "river")])


def _memory(size: TreeSize, num_buckets: tuple[int, ...]) -> int:
    return solver_bytes(num_rows=size.infosets(num_buckets), max_actions=size.max_actions,
                        num_nodes=size.nodes, num_players=size.num_players,
                        bucket_table_bytes=0)


def _edges(tree: BettingTree, label: str) -> set[str]:
    """The actions out of the node with `label`, as label tokens."""
    labels = tree.labels
    node = labels.index(label)
    children = tree.children[node]
    return {labels[int(c)][len(label):] for c in children if c >= 0}


MULTIWAY = BetSizing(bet_sizes=((1.0,),) * 4, multiway_bet_sizes=((0.5,),) * 4, all_in=False,
                     max_raises=(2, 1, 1, 1), multiway_max_raises=(1, 0, 0, 0))


def test_the_multiway_menu_applies_while_more_than_two_players_remain() -> None:
    tree = build_holdem_tree(num_players=3, stacks=10_000, small_blind=50, big_blind=100,
                             sizing=MULTIWAY)
    # Button, three in: half of (pot 150 + 100 to call) on top of the big blind raises to 225.
    assert _edges(tree, "") == {"f", "c", "r225"}
    # The button folded: heads-up, the pot-sized raise (150 + 50 owed) to 300.
    assert _edges(tree, "f") == {"f", "c", "r300"}
    # The button called: still three in, half of 300 raises to 250 (the minimum is 200).
    assert _edges(tree, "c") == {"f", "c", "r250"}
    # One multiway raise made: the cap of 1 leaves fold and call.
    assert _edges(tree, "r225") == {"f", "c"}
    # A heads-up flop may bet; a three-way flop (multiway cap 0) only checks.
    assert _edges(tree, "fck/") == {"k", "b200"}
    assert _edges(tree, "cck/") == {"k"}


def test_multiway_entries_are_named_and_counted_apart() -> None:
    size = holdem_tree_size(num_players=3, stacks=10_000, small_blind=50, big_blind=100,
                            sizing=MULTIWAY)
    assert MenuEntry(0, "multiway bet", 0.5) in size.entry_nodes
    assert MenuEntry(0, "bet", 1.0) in size.entry_nodes
    assert str(MenuEntry(1, "multiway bet", 0.5)) == "flop multiway bet 0.5 pot"


@pytest.mark.parametrize(("num_players", "stacks", "sizing"), [
    (3, 40, MULTIWAY),
    (3, 200, None),
    (4, [30, 25, 40, 20], BetSizing(bet_sizes=((1.0,), (0.5, 1.0), (1.0,), (1.0,)),
                                    multiway_bet_sizes=((2.0,), (1.0,), (), (0.5,)),
                                    multiway_max_raises=(2, 1, 0, 1))),
    (5, 16, None),
    (6, 14, None),
    (6, 12, BetSizing(bet_sizes=((1.0,),) * 4, raise_sizes=((0.5,),) * 4,
                      preflop_open_bb=(2.5,), max_raises=(2, 1, 1, 1),
                      multiway_max_raises=(1, 1, 0, 0))),
])
def test_the_count_equals_the_built_tree_with_multiway_menus(
        num_players: int, stacks: int | list[int], sizing: BetSizing | None) -> None:
    counted = holdem_tree_size(num_players=num_players, stacks=stacks, small_blind=1,
                               big_blind=2, sizing=sizing)
    tree = build_holdem_tree(num_players=num_players, stacks=stacks, small_blind=1, big_blind=2,
                             sizing=sizing)
    assert counted.counts() == tree.counts()
    assert counted.max_actions == tree.max_actions
    assert counted.decision_by_round == tuple(
        int(np.count_nonzero((tree.terminal == 0) & (tree.round == r))) for r in range(4))


def test_the_heads_up_default_menu_is_unchanged() -> None:
    assert default_bet_sizing(2) == BetSizing()
    assert "multiway_bet_sizes" not in BetSizing().as_dict()  # heads-up identities unchanged
    assert load_game("holdem").params["bet_sizing"] == BetSizing().as_dict()


@pytest.mark.parametrize("num_players", [3, 4, 5, 6])
def test_the_default_menu_of_each_player_count_fits_16_gib(num_players: int) -> None:
    # Counted, not built (six players would take a minute and gigabytes to build).
    size = holdem_size(num_players=num_players)
    assert size.tree.nodes <= DEFAULT_MAX_NODES
    assert _memory(size.tree, _default_bucket_counts()) < LIMIT
    assert holdem_tree_size(num_players=num_players, stacks=200, small_blind=1, big_blind=2,
                            sizing=default_bet_sizing(num_players)) == size.tree


def test_multiway_fields_round_trip_and_are_validated() -> None:
    sizing = default_bet_sizing(6)
    data = sizing.as_dict()
    assert data["multiway_max_raises"] == [2, 1, 1, 0]
    assert BetSizing.from_dict(data) == sizing
    assert BetSizing.from_dict(yaml.safe_load(yaml.safe_dump(data))) == sizing
    with pytest.raises(GameError, match=r"multiway_max_raises\[3\]=-1"):
        BetSizing(multiway_max_raises=(1, 1, 1, -1))
    with pytest.raises(GameError, match=r"multiway_bet_sizes=\(\(1.0,\),\): must hold 4"):
        BetSizing(multiway_bet_sizes=((1.0,),))
    with pytest.raises(GameError, match=r"multiway_bet_sizes\[1\]\[0\]=0: must be a finite"):
        BetSizing.from_dict({"multiway_bet_sizes": [[1.0], [0], [1.0], [1.0]]})
    with pytest.raises(GameError, match="num_players=7"):
        default_bet_sizing(7)


@pytest.mark.parametrize(("name", "num_players"), [("threeway", 3), ("sixmax", 6)])
def test_the_shipped_multiway_configs_fit_16_gib(name: str, num_players: int) -> None:
    spec, config = load_run_config(CONFIGS / f"{name}.yaml")
    assert spec.num_players == config.num_players == num_players
    assert spec.buckets is not None and spec.buckets.endswith("data/buckets/default/buckets.npz")
    assert spec.game_params["stack"] == 100 * spec.game_params["big_blind"]
    size = holdem_size(**spec.game_params).tree
    assert size.nodes <= DEFAULT_MAX_NODES
    assert _memory(size, _default_bucket_counts()) < LIMIT


def test_threeway_trains_through_the_chunk_runner(tmp_path: Path) -> None:
    spec, _ = load_run_config(CONFIGS / "threeway.yaml")
    # The shipped menu on a shorter stack and without the bucket file, to stay fast.
    params = {**spec.game_params, "stack": 40}
    game_spec = GameSpec(game="holdem", game_params=params)
    # The sharded engine, in batches small enough for two chunks of 150 iterations.
    config = MCCFRConfig(num_players=3, num_iterations=300, enable_chunked_training=True,
                         chunk_size_iterations=150, sampling="external", seed=5,
                         batch_iterations=50, shards=10)
    chunks = 0
    while run_chunk(tmp_path, game_spec, config, progress=False,
                    tensorboard=False).status is not ChunkStatus.COMPLETE:
        chunks += 1
    assert chunks == 1
    reference = Solver(load_game("holdem", **params), config)
    reference.run(300)
    info = latest_checkpoint(tmp_path)
    assert info is not None
    assert np.array_equal(load_checkpoint(info).state["regrets"], reference.regrets)
    assert np.any(reference.regrets != 0)
