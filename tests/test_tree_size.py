"""Hold'em trees sized before they are built: the count equals the built tree exactly, the
heads-up default tree keeps its size, a tree over the limit is refused before any allocation,
and `holdem-lab size` reports the solver's own memory figure and #SBATCH lines."""

from __future__ import annotations

import contextlib
import hashlib
import io
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from holdem_lab.cli.lab import main as lab_main
from holdem_lab.cli.sbatch import sbatch_lines
from holdem_lab.errors import GameError
from holdem_lab.games import load_game
from holdem_lab.games.betting import (
    NUM_ROUNDS,
    BetSizing,
    MenuEntry,
    build_holdem_tree,
    holdem_tree_size,
)
from holdem_lab.games.holdem import holdem_size
from holdem_lab.games.tree import DECISION
from holdem_lab.solver.solver import memory_needed

ONE_SIZE = BetSizing(bet_sizes=((1.0,),) * 4, max_raises=(2, 1, 1, 1))
HU_DEFAULT_MENU = BetSizing(bet_sizes=((1.0,), (0.5, 1.0), (0.5, 1.0), (0.5, 1.0)),
                            raise_sizes=((1.0,),) * 4, preflop_open_bb=(2.5,),
                            max_raises=(3, 2, 2, 2))
GAMES: dict[str, dict[str, Any]] = {
    "2p default": dict(num_players=2, stacks=200, small_blind=1, big_blind=2),
    "2p shipped menu": dict(num_players=2, stacks=200, small_blind=1, big_blind=2,
                            sizing=HU_DEFAULT_MENU),
    "2p uneven, ante": dict(num_players=2, stacks=[150, 90], small_blind=1, big_blind=2,
                            ante=1),
    "3p default, ante": dict(num_players=3, stacks=40, small_blind=1, big_blind=2, ante=1),
    "4p uneven": dict(num_players=4, stacks=[30, 25, 40, 20], small_blind=1, big_blind=2),
    "5p two sizes, no all-in, ante": dict(
        num_players=5, stacks=20, small_blind=1, big_blind=2, ante=1,
        sizing=BetSizing(bet_sizes=((0.5, 2.0), (0.5,), (1.0,), (1.0,)), all_in=False,
                         max_raises=(2, 1, 1, 1))),
    "6p one size": dict(num_players=6, stacks=12, small_blind=1, big_blind=2, sizing=ONE_SIZE),
    "2p big-blind ante": dict(num_players=2, stacks=60, small_blind=1, big_blind=2, ante=2,
                              ante_type="big_blind"),
    "4p big-blind ante, short big blind": dict(
        num_players=4, stacks=[30, 3, 40, 20], small_blind=1, big_blind=2, ante=4,
        ante_type="big_blind", sizing=ONE_SIZE),
    "6p one size, ante, open in bb": dict(
        num_players=6, stacks=14, small_blind=1, big_blind=2, ante=1,
        sizing=BetSizing(bet_sizes=((1.0,),) * 4, preflop_open_bb=(3.0,),
                         max_raises=(2, 1, 1, 0))),
}


@pytest.mark.parametrize("name", sorted(GAMES))
def test_the_count_equals_the_built_tree(name: str) -> None:
    params = GAMES[name]
    size = holdem_tree_size(**params)
    tree = build_holdem_tree(**params)
    assert size.counts() == tree.counts()
    assert size.decision_by_round == tuple(
        int(np.count_nonzero((tree.terminal == DECISION) & (tree.round == r)))
        for r in range(NUM_ROUNDS))
    assert size.max_actions == tree.max_actions
    assert size.num_players == tree.num_players


@pytest.mark.parametrize("num_players", [3, 6])
def test_infosets_and_memory_equal_the_built_game(num_players: int) -> None:
    params = dict(num_players=num_players, stack=10 if num_players == 6 else 30,
                  small_blind=1, big_blind=2, ante=1, bet_sizing=ONE_SIZE)
    size = holdem_size(**params)
    game = load_game("holdem", **params)
    assert size.infosets == game.num_rows
    assert size.tree.infosets((1, 2, 3, 4)) == sum(
        int(np.count_nonzero((game.tree.terminal == DECISION) & (game.tree.round == r))) * b
        for r, b in enumerate((1, 2, 3, 4)))
    from holdem_lab.cli.size import GameSizing, size_game
    from holdem_lab.config import GameSpec

    sizing = size_game(GameSpec(game="holdem", game_params=params))
    assert isinstance(sizing, GameSizing)
    assert sizing.solver_bytes() == memory_needed(game)


def _digest(tree: Any) -> str:
    digest = hashlib.sha256()
    for array in (tree.player, tree.round, tree.terminal, tree.children, tree.action_kind,
                  tree.action_amount, tree.contrib, tree.folded, tree.parent):
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update("\n".join(tree.labels).encode())
    return digest.hexdigest()[:16]


def test_the_heads_up_default_trees_keep_their_size() -> None:
    """Other measurements depend on these trees: their counts and bytes must not change."""
    default = holdem_tree_size(num_players=2, stacks=200, small_blind=1, big_blind=2)
    assert default.counts() == {"nodes": 17288, "decision": 6586, "fold_terminal": 5351,
                                "showdown_terminal": 5351}
    assert default.decision_by_round == (14, 124, 972, 5476)
    assert default.infosets((169, 1, 1, 1)) == 2366 + 124 + 972 + 5476
    game = load_game("holdem")
    assert game.num_rows == 8938
    assert _digest(game.tree) == "b71d7dd212ad3c1d"
    shipped = holdem_tree_size(num_players=2, stacks=200, small_blind=1, big_blind=2,
                               sizing=HU_DEFAULT_MENU)
    assert shipped.counts() == {"nodes": 10700, "decision": 4086, "fold_terminal": 3307,
                                "showdown_terminal": 3307}
    assert _digest(build_holdem_tree(num_players=2, stacks=200, small_blind=1, big_blind=2,
                                     sizing=HU_DEFAULT_MENU)) == "f4f5b8c7d1956e19"


def test_the_largest_entries_and_rounds_are_named() -> None:
    size = holdem_tree_size(num_players=3, stacks=200, small_blind=1, big_blind=2,
                            sizing=BetSizing())
    top = size.largest_entries((169, 1, 1, 1), top=3)
    assert [str(entry) for entry, _ in top] == [
        "preflop bet 1 pot", "flop bet 0.5 pot", "turn bet 0.5 pot"]
    assert top[0][1] == size.entry_decisions[MenuEntry(0, "bet", 1.0)][0] * 169 + sum(
        size.entry_decisions[MenuEntry(0, "bet", 1.0)][1:])
    # No entry's subtrees can hold more than the whole tree.
    assert max(size.entry_nodes.values()) < size.nodes
    assert "river 105,039" in size.breakdown((169, 1, 1, 1))


@pytest.mark.parametrize(("entry", "dropped"), [
    (MenuEntry(1, "bet", 0.5), {"bet_sizes": ((1.0,), (), (1.0,), (1.0,))}),
    (MenuEntry(0, "raise", 2.0), {"raise_sizes": ((), (1.0,), (1.0,), (1.0,))}),
    (MenuEntry(3, "raise", 1.0), {"raise_sizes": ((2.0,), (1.0,), (1.0,), ())}),
])
def test_an_entry_counts_what_dropping_it_saves(entry: MenuEntry,
                                                dropped: dict[str, Any]) -> None:
    """With one size per menu and no all-in no two entries share an edge, so dropping an entry
    removes exactly the nodes below its edges, each once (raises nest below raises)."""
    menu: dict[str, Any] = dict(bet_sizes=((1.0,), (0.5,), (1.0,), (1.0,)),
                                raise_sizes=((2.0,), (1.0,), (1.0,), (1.0,)), all_in=False,
                                max_raises=(3, 2, 1, 2))
    table = dict(num_players=3, stacks=60, small_blind=1, big_blind=2)
    full = holdem_tree_size(**table, sizing=BetSizing(**menu))
    without = build_holdem_tree(**table, sizing=BetSizing(**{**menu, **dropped}))
    assert full.nodes - without.num_nodes == full.entry_nodes[entry] > 0
    saved = [full.decision_by_round[r] - int(np.count_nonzero(
        (without.terminal == DECISION) & (without.round == r))) for r in range(NUM_ROUNDS)]
    assert tuple(saved) == full.entry_decisions[entry]


def test_an_oversized_tree_is_refused_before_it_is_allocated() -> None:
    params = dict(num_players=3, stacks=200, small_blind=1, big_blind=2, sizing=BetSizing())
    nodes = holdem_tree_size(**params).nodes  # 302,377
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(GameError) as refused:
            build_holdem_tree(**params, max_nodes=nodes // 10)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - started
    message = str(refused.value)
    assert f"{nodes:,} nodes, over max_nodes={nodes // 10}" in message
    assert "decision nodes by round: preflop 174, flop 2,126, turn 19,460" in message
    assert "most nodes lie below flop bet 0.5 pot" in message
    # The built tree's int32 rows alone would take 302,377 x 29 x 4 bytes (35 MB).
    assert peak < 16 * 2**20, peak
    assert elapsed < 10, elapsed
    tree = build_holdem_tree(**params, max_nodes=nodes)  # exactly at the limit: built
    assert tree.num_nodes == nodes


def _lab(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = lab_main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue(), err.getvalue()


def test_holdem_lab_size_reports_the_solver_sizing(tmp_path: Path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("game: holdem\ngame_params:\n  stack: 30\n  ante: 1\n"
                      "  bet_sizing:\n    bet_sizes: [[1.0], [1.0], [1.0], [1.0]]\n"
                      "    max_raises: [2, 1, 1, 1]\nnum_iterations: 10\n")
    code, out, err = _lab("size", str(config), "--num-players", "3")
    assert (code, err) == (0, "")
    game = load_game("holdem", num_players=3, stack=30, ante=1, bet_sizing=ONE_SIZE)
    counts = game.tree.counts()
    assert f"nodes: {counts['nodes']:,} ({counts['decision']:,} decision" in out
    assert f"infosets: {game.num_rows:,} (buckets per round: 169/1/1/1)" in out
    lines = out.splitlines()
    assert lines[-2:] == sbatch_lines(game, tmp_path)[1:]
    float64 = next(line for line in lines if line.strip().startswith("float64"))
    assert f"{memory_needed(game) / 2**10:,.2f} KiB" in float64


def test_holdem_lab_size_refuses_a_contradicting_player_count(tmp_path: Path) -> None:
    config = tmp_path / "run.yaml"
    config.write_text("game: holdem\ngame_params:\n  num_players: 2\n")
    code, out, err = _lab("size", str(config), "--num-players", "4")
    assert code == 2 and out == ""
    assert "num_players=4" in err and "game_params.num_players=2" in err


def test_holdem_lab_size_builds_the_small_games() -> None:
    config = Path(__file__).resolve().parents[1] / "holdem_lab" / "configs" / "leduc_small.yaml"
    code, out, err = _lab("size", str(config))
    assert (code, err) == (0, "")
    game = load_game("leduc")
    assert f"infosets: {game.num_rows:,} (buckets per round: 3/9)" in out
    assert f"{memory_needed(game) / 2**10:,.2f} KiB" in out
    code, out, err = _lab("size", str(config), "--num-players", "3")
    assert code == 2 and "the game 'leduc' is a 2-player game here" in err


def test_holdem_lab_size_measures_the_speed_a_short_run_reaches(tmp_path: Path) -> None:
    """--measure trains the config's game for that long and reports what it reached: the
    figures are the solver's own counts over the time measured."""
    import re

    config = tmp_path / "run.yaml"
    config.write_text("game: holdem\ngame_params:\n  stack: 30\n"
                      "  bet_sizing:\n    bet_sizes: [[1.0], [1.0], [1.0], [1.0]]\n"
                      "    max_raises: [2, 1, 1, 1]\nengine: sharded\nnum_workers: 2\n")
    code, out, err = _lab("size", str(config), "--measure", "0.5", "--workers", "1")
    assert (code, err) == (0, "")
    found = re.search(r"speed measured over ([\d.]+) s \(sharded engine, 1 worker, after a "
                      r"warm-up\): ([\d,]+) iterations/s, ([\d.]+)M node visits/s", out)
    assert found is not None, out
    seconds, rate, visits = (float(found.group(i).replace(",", "")) for i in (1, 2, 3))
    assert seconds >= 0.5 and rate > 100 and visits * 1e6 > rate  # every iteration visits nodes
    code, out, err = _lab("size", str(config), "--measure", "0")
    assert code == 2 and "--measure" in err


def test_holdem_lab_size_counts_strategy_sums_on_the_averaged_rounds_only(tmp_path: Path) -> None:
    from holdem_lab.solver.solver import strategy_layout

    config = tmp_path / "run.yaml"
    config.write_text("game: holdem\ngame_params:\n  stack: 30\n"
                      "  bet_sizing:\n    bet_sizes: [[1.0], [1.0], [1.0], [1.0]]\n"
                      "    max_raises: [2, 1, 1, 1]\naverage_rounds: [0, 2]\n")
    code, out, err = _lab("size", str(config))
    assert (code, err) == (0, "")
    game = load_game("holdem", stack=30, bet_sizing=ONE_SIZE)
    rows = strategy_layout(game, (0, 2))[1]
    assert 0 < rows < game.num_rows
    assert "strategy sums on rounds 0, 2 only" in out
    float64 = next(line for line in out.splitlines() if line.strip().startswith("float64"))
    assert f"{memory_needed(game, strategy_rows=rows) / 2**10:,.2f} KiB" in float64
