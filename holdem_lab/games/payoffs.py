"""Terminal payoffs: the chips a player wins or loses when the hand ends.

`terminal_payoff` is the one definition, read from a terminal's row of the packed node table
(`GameArrays.node_table`, see holdem_lab.games.game): the training kernel calls it at every
terminal it reaches, the head-to-head match kernel at the end of every hand, and
`terminal_payoffs` tabulates it for the exact evaluation.

A fold terminal pays the pot to the one live player. A showdown splits the pot evenly
(fractional chips) between the best live hands; when live players put in different amounts
(all-ins for less), the pot is peeled into side-pot layers at each live contribution level and
each layer is split between the best hands that reached it. Dead money (a big-blind ante,
`TERMINAL_DEAD_MONEY`) is in the pot but in no layer's level: it joins the first layer, which
every live player reaches, and its poster pays it on top of its live chips. Every payoff is net of
the player's own contribution, so the payoffs of a terminal sum to zero.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from holdem_lab.games.game import (
    NODE_WORD,
    TERMINAL_CONTRIB,
    TERMINAL_DEAD_MONEY,
    TERMINAL_EQUAL_LIVE,
    TERMINAL_POT,
    packed_nodes,
)
from holdem_lab.games.tree import DECISION, FOLD_TERMINAL, BettingTree


@njit(cache=True)
def side_pot_payoff(contrib: np.ndarray, folded: np.ndarray, row: int, player: int,
                    strength: np.ndarray, num_players: int, dead: float = 0.0) -> float:
    """Showdown payoff of live `player` at a terminal whose live players put in different
    amounts: the pot in layers at each live contribution level, each layer split evenly between
    the best hands of the live players who reached it, the `dead` money in the first layer
    (the player's own dead money is not subtracted here)."""
    mine = contrib[row, player]
    won = 0.0
    previous = 0.0
    layer = dead
    while True:
        level = np.inf
        for p in range(num_players):
            c = contrib[row, p]
            if folded[row, p] == 0 and c > previous and c < level:
                level = c
        if level == np.inf:
            break
        for p in range(num_players):
            c = contrib[row, p]
            layer += min(c, level) - min(c, previous)
        best = -1
        winners = 0
        for p in range(num_players):
            if folded[row, p] == 0 and contrib[row, p] >= level:
                s = strength[p]
                if s > best:
                    best = s
                    winners = 1
                elif s == best:
                    winners += 1
        if mine >= level and strength[player] == best:
            won += layer / winners
        previous = level
        layer = 0.0
    return won - mine


@njit(cache=True, inline="always")
def terminal_payoff(word: int, amounts: np.ndarray, contrib: np.ndarray, folded: np.ndarray,
                    row: int, player: int, strength: np.ndarray, num_players: int) -> float:
    """Chips won (negative: lost) by `player` at the terminal in row `row` of the node table,
    given the row's word, the table's float view `amounts`, its contribution columns `contrib`
    and the folded flags by row `folded` (`GameArrays.node_amounts`, `node_contrib`,
    `node_folded`), and every player's showdown `strength` (higher is better, equal split)."""
    payoff = -amounts[row, TERMINAL_CONTRIB + player]
    dead = 0.0
    own_dead = 0.0
    if word & TERMINAL_DEAD_MONEY:
        dead = amounts[row, TERMINAL_POT]
        for p in range(num_players):
            dead -= contrib[row, p]
        if (word >> 24) & 7 == player:
            own_dead = dead
            payoff -= dead
    if (word >> player) & 1 == 0:
        if (word >> 16) & 0xFF == FOLD_TERMINAL:
            payoff += amounts[row, TERMINAL_POT]
        elif word & TERMINAL_EQUAL_LIVE == 0:
            payoff = side_pot_payoff(contrib, folded, row, player, strength, num_players,
                                     dead) - own_dead
        else:
            best = -1
            winners = 0
            for p in range(num_players):
                if (word >> p) & 1 == 0:
                    if strength[p] > best:
                        best = strength[p]
                        winners = 1
                    elif strength[p] == best:
                        winners += 1
            if strength[player] == best:
                payoff += amounts[row, TERMINAL_POT] / winners
    return payoff


@njit(cache=True)
def _tabulate(nodes: np.ndarray, amounts: np.ndarray, contrib: np.ndarray, folded: np.ndarray,
              rows: np.ndarray, strengths: np.ndarray, num_players: int) -> np.ndarray:
    num_nodes = rows.shape[0]
    num_deals = strengths.shape[0]
    out = np.zeros((num_nodes, num_deals, num_players))
    for node in range(num_nodes):
        row = rows[node]
        word = nodes[row, NODE_WORD]
        if (word >> 16) & 0xFF == DECISION:
            continue
        for d in range(num_deals):
            strength = strengths[d]
            for p in range(num_players):
                out[node, d, p] = terminal_payoff(word, amounts, contrib, folded, row, p,
                                                  strength, num_players)
    return out


def terminal_payoffs(tree: BettingTree, strengths: np.ndarray) -> np.ndarray:
    """Payoffs (num_nodes, num_deals, num_players) of every player at every terminal node of
    `tree` (in tree order; zero at decision nodes) for each deal's showdown strengths
    `strengths[deal, player]`, read from the node table the training kernel reads."""
    strengths = np.ascontiguousarray(strengths, dtype=np.int64)
    if strengths.ndim != 2 or strengths.shape[1] != tree.num_players:
        raise ValueError(f"strengths shape {strengths.shape}: expected (deals, "
                         f"{tree.num_players})")
    unused = np.zeros(tree.num_nodes, dtype=np.int64)  # infoset rows do not matter here
    packed = packed_nodes(tree, unused, unused)
    return _tabulate(packed.table, packed.amounts, packed.contrib, packed.folded, packed.rows,
                     strengths, tree.num_players)
