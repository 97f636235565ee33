"""The packed node rows the training kernels read (`GameArrays.node_table`) say exactly what the
tree and the row layout say."""

from __future__ import annotations

import numpy as np
import pytest

from holdem_lab import load_game
from holdem_lab.games.game import (
    NODE_CHILDREN,
    NODE_ROW_OFFSET,
    NODE_ROW_STRIDE,
    NODE_WORD,
    TERMINAL_CONTRIB,
    TERMINAL_EQUAL_LIVE,
    TERMINAL_POT,
    Game,
    _equal_live,
    node_order,
    node_table,
)
from holdem_lab.games.tree import DECISION

GAMES = {
    "kuhn": lambda: load_game("kuhn"),
    "leduc": lambda: load_game("leduc"),
    "holdem-hu": lambda: load_game("holdem", num_players=2, stack=40),
    "holdem-3": lambda: load_game("holdem", num_players=3, stack=30),
    "holdem-6": lambda: load_game("holdem", num_players=6, stack=12),
    "holdem-side-pots": lambda: load_game("holdem", num_players=3, stack=[10, 20, 30]),
}


def _decode(game: Game, nodes: np.ndarray) -> None:
    """Every tree node's row says what the tree and the row layout say about the node."""
    tree = game.tree
    amounts = nodes.view(np.float64)
    equal_live = _equal_live(tree)
    rows = node_order(tree)
    assert sorted(rows.tolist()) == list(range(tree.num_nodes)) and rows[0] == 0
    assert nodes.flags.c_contiguous and nodes.shape[0] == tree.num_nodes
    assert nodes.strides[0] == 32 or nodes.strides[0] % 64 == 0
    assert nodes.ctypes.data % 64 == 0  # no row straddles two cache lines
    for node in range(tree.num_nodes):
        row = int(rows[node])
        word = int(nodes[row, NODE_WORD])
        kind = (word >> 16) & 0xFF
        assert kind == tree.terminal[node]
        assert (word >> 8) & 0xFF == tree.round[node]
        assert word >> 24 == tree.num_actions[node]
        if kind == DECISION:
            actions = int(tree.num_actions[node])
            assert word & 0xFF == tree.player[node]
            assert nodes[row, NODE_ROW_OFFSET] == game.row_offset[node]
            assert nodes[row, NODE_ROW_STRIDE] == game.row_stride[node]
            children = nodes[row, NODE_CHILDREN:NODE_CHILDREN + actions]
            assert children.tolist() == rows[tree.children[node, :actions]].tolist()
            # siblings sit in consecutive rows
            assert np.diff(children).tolist() == [1] * (actions - 1)
        else:
            for p in range(tree.num_players):
                assert (word >> p) & 1 == tree.folded[node, p]
                assert amounts[row, TERMINAL_CONTRIB + p] == tree.contrib[node, p]
            assert bool(word & TERMINAL_EQUAL_LIVE) == bool(equal_live[node])
            assert amounts[row, TERMINAL_POT] == tree.contrib[node].sum()


@pytest.mark.parametrize("name", list(GAMES))
def test_node_rows_decode_to_the_tree(name: str) -> None:
    game = GAMES[name]()
    arrays = game.arrays()
    assert arrays.node_table.dtype == np.int32
    assert np.shares_memory(arrays.node_table, arrays.node_amounts)
    _decode(game, arrays.node_table)
    rows = node_order(game.tree)
    terminal = game.tree.terminal != DECISION  # the only rows with contributions
    assert (arrays.node_contrib[rows][terminal] == game.tree.contrib[terminal]).all()
    assert (arrays.node_folded[rows] == game.tree.folded).all()


def test_side_pot_terminals_are_flagged() -> None:
    game = load_game("holdem", num_players=3, stack=[10, 20, 30])
    nodes = game.arrays().node_table[node_order(game.tree)]  # back in tree order
    terminal = game.tree.terminal != DECISION
    flagged = (nodes[:, NODE_WORD] & TERMINAL_EQUAL_LIVE) != 0
    side_pots = terminal & (_equal_live(game.tree) == 0)
    assert side_pots.sum() > 100
    assert not flagged[side_pots].any()
    assert flagged[terminal & ~side_pots].all()


def test_row_indices_past_int32_widen_the_table() -> None:
    game = load_game("leduc")
    offsets = game.row_offset.copy()
    decision = game.tree.terminal == DECISION
    offsets[decision] += 2**31  # as in a game of more than 2**31 infoset rows
    nodes = node_table(game.tree, offsets, game.row_stride, _equal_live(game.tree))
    nodes = nodes[node_order(game.tree)]  # back in tree order
    assert nodes.dtype == np.int64
    assert (nodes[decision, NODE_ROW_OFFSET] == offsets[decision]).all()
    children = nodes[0, NODE_CHILDREN:NODE_CHILDREN + game.tree.num_actions[0]]
    assert children.tolist() == list(range(1, 1 + game.tree.num_actions[0]))
    terminal = np.flatnonzero(~decision)[0]
    amounts = nodes.view(np.float64)
    assert amounts[terminal, TERMINAL_POT] == game.tree.contrib[terminal].sum()


@pytest.mark.parametrize("sampling", ["external", "outcome"])
def test_training_on_an_int64_table_matches_int32(sampling: str) -> None:
    from holdem_lab import MCCFRConfig, Solver
    from holdem_lab.solver import kernels
    from holdem_lab.solver.solver import _parameters

    game = load_game("holdem", num_players=3, stack=[10, 20, 30])  # side pots included
    config = MCCFRConfig(sampling=sampling, num_players=3, seed=4, enable_pruning=True,
                         prune_warmup_iterations=500, prune_threshold=-1.0)
    narrow = game.arrays()
    wide_table = node_table(game.tree, game.row_offset, game.row_stride,
                            _equal_live(game.tree), dtype=np.int64)
    amounts = wide_table.view(np.float64)
    wide = narrow._replace(
        node_table=wide_table, node_amounts=amounts,
        node_contrib=amounts[:, TERMINAL_CONTRIB:TERMINAL_CONTRIB + game.num_players])
    assert narrow.node_table.dtype == np.int32 and wide.node_table.dtype == np.int64
    iparams, fparams = _parameters(config)
    Solver(game, config)  # refuses nothing about this game
    results = []
    for arrays in (narrow, wide):
        tables = np.zeros((2, game.num_rows, game.max_actions))
        stats = np.zeros(kernels.NUM_STATS, dtype=np.int64)
        sum_shift = np.zeros((game.num_players, game.tree.num_rounds), dtype=np.int64)
        kernels.run_iterations(arrays, tables[0], tables[1], sum_shift,
                               np.random.default_rng(9), 1, 3000, iparams, fparams,
                               np.zeros(0, dtype=np.int64), np.zeros(0),
                               np.zeros(2, dtype=np.int64), np.ones(kernels.NUM_SCALES), stats,
                               np.zeros(2, dtype=np.int64))
        results.append((tables, stats))
    assert np.array_equal(results[0][0], results[1][0])
    assert np.array_equal(results[0][1], results[1][1]) and results[0][1][0] > 0
