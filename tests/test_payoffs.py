"""Terminal payoffs (holdem_lab.games.payoffs) as the training kernel reads them, against the
exact evaluation's table and against the poker rules: every Kuhn and Leduc deal at every
terminal, and random Hold'em terminals with folds and side pots for 2-6 players."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from holdem_lab import load_game
from holdem_lab.eval.exact import _exact_for
from holdem_lab.games.dealing import deal_small
from holdem_lab.games.game import BUCKETS_HOLDEM, NODE_WORD, SHOWDOWN_HOLDEM, Game
from holdem_lab.games.holdem import holdem_card_model
from holdem_lab.games.numba_tools import borrowed
from holdem_lab.games.payoffs import terminal_payoff, terminal_payoffs
from holdem_lab.games.tree import (
    DECISION,
    FOLD_TERMINAL,
    SHOWDOWN_TERMINAL,
    BettingTree,
    TreeBuilder,
)
from holdem_lab.rules.pots import build_pots


@njit
def _dealt_strength(g, cards):
    """The showdown strengths of a Kuhn or Leduc deal, dealt as the training kernel deals."""
    buckets = np.empty((g.num_players, g.num_rounds), dtype=np.int64)
    strength = np.empty(g.num_players, dtype=np.int64)
    deal_small(g.num_players, g.num_rounds, g.hole_cards, g.board_total, g.board_visible,
               g.deck_size, g.card_rank, g.showdown_kind, g.small_bucket_table, cards, buckets,
               strength)
    return strength


@njit
def _as_the_kernel_reads(g, nodes, strengths):
    """Every player's payoff at `nodes` (tree ids) for each row of `strengths`, read the way
    holdem_lab.solver.kernels._train reads it: terminal_payoff on borrowed views of the game's
    packed node table, at the node's row."""
    out = np.empty((nodes.shape[0], strengths.shape[0], g.num_players))
    amounts = borrowed(g.node_amounts)
    contrib = borrowed(g.node_contrib)
    folded = borrowed(g.node_folded)
    for d in range(strengths.shape[0]):
        strength = borrowed(strengths[d])
        for i in range(nodes.shape[0]):
            row = g.node_row[nodes[i]]
            for p in range(g.num_players):
                out[i, d, p] = terminal_payoff(g.node_table[row, NODE_WORD], amounts, contrib,
                                               folded, row, p, strength, g.num_players)
    return out


def _small_game_rules(game: Game, cards: np.ndarray, node: int) -> list[float]:
    """Kuhn/Leduc payoffs from the rules: a fold gives the pot to the one who stayed; at a
    showdown a private card pairing the board wins, else the higher rank; equal hands split."""
    tree = game.tree
    contrib = tree.contrib[node]
    pot = float(contrib.sum())
    live = [p for p in range(2) if not tree.folded[node, p]]
    if tree.terminal[node] == FOLD_TERMINAL:
        return [(pot if p in live else 0.0) - contrib[p] for p in range(2)]
    ranks = game.cards.card_rank
    board = int(cards[2]) if game.name == "leduc" else -1

    def strength(p: int) -> tuple[int, int]:
        paired = board >= 0 and ranks[cards[p]] == ranks[board]
        return int(paired), int(ranks[cards[p]])

    best = max(strength(p) for p in live)
    winners = [p for p in live if strength(p) == best]
    return [(pot / len(winners) if p in winners else 0.0) - contrib[p] for p in range(2)]


@pytest.mark.parametrize(("name", "params"), [("kuhn", {}), ("leduc", {}),
                                              ("leduc", {"suit_isomorphic": False})])
def test_kernel_payoffs_equal_the_exact_evaluation_on_every_deal(name: str,
                                                                  params: dict[str, bool]
                                                                  ) -> None:
    game = load_game(name, **params)
    arrays = game.arrays()
    exact = _exact_for(game)
    terminals = np.flatnonzero(game.tree.terminal != DECISION)
    assert len(terminals) == (5 if name == "kuhn" else 49)
    assert exact.deals.cards.shape[0] == (6 if name == "kuhn" else 120)
    for d, cards in enumerate(exact.deals.cards):
        strength = _dealt_strength(arrays, cards)
        np.testing.assert_array_equal(strength, exact.deals.strength[d])
        kernel = _as_the_kernel_reads(arrays, terminals, strength[None, :])[:, 0]
        np.testing.assert_array_equal(kernel, exact.utilities[terminals, d])
        rules = [_small_game_rules(game, cards, int(node)) for node in terminals]
        np.testing.assert_array_equal(kernel, rules)
    assert np.all(exact.utilities[game.tree.terminal == DECISION] == 0.0)


def _random_terminals(rng: np.random.Generator, num_players: int, count: int) -> BettingTree:
    """A root with `count` terminal children: random integer contributions, random folds (some
    live player always has the largest contribution, as in every real hand)."""
    builder = TreeBuilder(num_players, 4)
    root = builder.add_node(player=0, round_index=0, terminal=DECISION,
                            contrib=[0.0] * num_players, folded=[False] * num_players,
                            parent=-1, label="")
    for i in range(count):
        contrib = rng.integers(1, 40, size=num_players).astype(float)
        live = rng.random(num_players) < 0.6
        if not live.any():
            live[rng.integers(num_players)] = True
        if rng.random() < 0.3:  # equal live contributions: the no-side-pot path
            contrib[live] = contrib[live].max()
        top = rng.choice(np.flatnonzero(live))
        contrib[top] = contrib.max() + (0 if rng.random() < 0.5 else rng.integers(1, 5))
        kind = FOLD_TERMINAL if live.sum() == 1 else SHOWDOWN_TERMINAL
        child = builder.add_node(player=-1, round_index=int(rng.integers(4)), terminal=kind,
                                 contrib=contrib.tolist(), folded=(~live).tolist(),
                                 parent=root, label=str(i))
        builder.add_edge(root, child, 1, 0.0)
    return builder.build()


def _rules_payoffs(contrib: np.ndarray, folded: np.ndarray, strength: np.ndarray) -> list[float]:
    """Main and side pots from holdem_lab.rules.pots, each split evenly between its best
    eligible hands (fractional chips, as the engine splits)."""
    won = np.zeros(len(contrib))
    for pot in build_pots([int(c) for c in contrib], [bool(f) for f in folded]):
        best = max(int(strength[p]) for p in pot.eligible)
        winners = [p for p in pot.eligible if strength[p] == best]
        for p in winners:
            won[p] += pot.amount / len(winners)
    return (won - contrib).tolist()


def _holdem_game(tree: BettingTree) -> Game:
    """A Hold'em game on a given betting tree (lossless preflop, one bucket later)."""
    dummy = np.zeros((4, 1, 1), dtype=np.int32)
    counts = (169, 1, 1, 1)
    return Game(name="holdem", params={}, tree=tree, cards=holdem_card_model(),
                showdown_kind=SHOWDOWN_HOLDEM, bucket_kind=BUCKETS_HOLDEM, num_buckets=counts,
                small_bucket_table=dummy, exact_bucket_table=dummy, num_exact_buckets=counts,
                bucket_names=tuple(tuple(str(b) for b in range(c)) for c in counts))


def _check_holdem(game: Game, strengths: np.ndarray) -> int:
    """Kernel read == exact table == rules at every terminal of `game` for every strength row;
    returns how many terminals have a side pot."""
    tree = game.tree
    terminals = np.flatnonzero(tree.terminal != DECISION)
    kernel = _as_the_kernel_reads(game.arrays(), terminals, strengths)
    exact = terminal_payoffs(tree, strengths)
    np.testing.assert_array_equal(kernel, exact[terminals])
    np.testing.assert_allclose(kernel.sum(axis=-1), 0.0, rtol=0, atol=1e-9)
    for i, node in enumerate(terminals):
        for d in range(strengths.shape[0]):
            expected = _rules_payoffs(tree.contrib[node], tree.folded[node], strengths[d])
            np.testing.assert_allclose(kernel[i, d], expected, rtol=0, atol=1e-9)
    live = ~tree.folded[terminals]
    spread = np.where(live, tree.contrib[terminals], -np.inf).max(axis=1) \
        - np.where(live, tree.contrib[terminals], np.inf).min(axis=1)
    return int(np.count_nonzero(spread > 0))


@pytest.mark.parametrize("num_players", [2, 3, 4, 5, 6])
def test_kernel_payoffs_equal_the_exact_evaluation_on_random_holdem_terminals(
        num_players: int) -> None:
    rng = np.random.default_rng(100 + num_players)
    game = _holdem_game(_random_terminals(rng, num_players, 60))
    strengths = rng.integers(0, 4, size=(25, num_players)).astype(np.int64)  # many ties
    assert _check_holdem(game, strengths) > 10


def test_kernel_payoffs_equal_the_exact_evaluation_on_a_real_side_pot_tree() -> None:
    """Every terminal of a three-player tree with unequal stacks (all-ins for less)."""
    rng = np.random.default_rng(7)
    game = load_game("holdem", num_players=3, stack=[10, 20, 30])
    strengths = rng.integers(0, 3, size=(4, 3)).astype(np.int64)
    assert _check_holdem(game, strengths) > 10


def test_terminal_payoffs_refuses_a_strength_table_of_the_wrong_shape() -> None:
    tree = load_game("kuhn").tree
    with pytest.raises(ValueError, match=r"strengths shape \(3,\): expected \(deals, 2\)"):
        terminal_payoffs(tree, np.zeros(3, dtype=np.int64))
