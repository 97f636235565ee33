"""The betting tree (action abstraction) as flat arrays.

A betting tree is public and card-free: every node is a decision of one player, or a terminal
(a fold that leaves one player, or a showdown). Nodes are stored in depth-first preorder with the
root at index 0, so a numba kernel walks the tree with integer indices only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

# Node kinds (values of `BettingTree.terminal`).
DECISION = 0
FOLD_TERMINAL = 1
SHOWDOWN_TERMINAL = 2

# Action kinds (values of `BettingTree.action_kind`).
FOLD = 0
CHECK_CALL = 1
BET_RAISE = 2
ALL_IN = 3
ACTION_KIND_NAMES = ("fold", "check/call", "bet/raise", "all-in")


@dataclass(frozen=True, eq=False)
class BettingTree:
    """Flat arrays describing a betting tree for `num_players` players over `num_rounds` rounds.

    Per node: `player` (-1 at terminals), `round`, `num_actions`, `children[node, a]` (-1 where
    a >= num_actions), `terminal` (DECISION / FOLD_TERMINAL / SHOWDOWN_TERMINAL), `contrib[node, p]`
    the chips player p has put in the pot so far (antes and blinds included), `folded[node, p]`.
    Per edge: `action_kind[node, a]` and `action_amount[node, a]`, the acting player's total
    contribution after the action. `labels[node]` is a readable history such as "rc/r".
    `dead_money` chips posted by `dead_money_seat` (a big-blind ante) are in that seat's `contrib`
    but belong to the main pot, which every live player can win (holdem_lab.games.payoffs).
    """

    num_players: int
    num_rounds: int
    player: np.ndarray
    round: np.ndarray
    num_actions: np.ndarray
    children: np.ndarray
    terminal: np.ndarray
    contrib: np.ndarray
    folded: np.ndarray
    action_kind: np.ndarray
    action_amount: np.ndarray
    parent: np.ndarray
    labels: tuple[str, ...] = field(repr=False)
    starting_stacks: tuple[float, ...] = ()
    dead_money: float = 0.0
    dead_money_seat: int = -1

    @property
    def num_nodes(self) -> int:
        return int(self.player.shape[0])

    @property
    def max_actions(self) -> int:
        return int(self.children.shape[1])

    @property
    def decision_nodes(self) -> np.ndarray:
        return np.flatnonzero(self.terminal == DECISION)

    @cached_property
    def max_depth(self) -> int:
        """Number of nodes on the longest root-to-terminal path (pointer jumping over the parent
        array: a few vector passes instead of a Python loop over millions of nodes)."""
        depth = np.ones(self.num_nodes, dtype=np.int64)
        ancestor = self.parent.astype(np.int64)
        while True:
            live = ancestor >= 0
            if not live.any():
                return int(depth.max())
            depth += live
            ancestor = np.where(live, self.parent[np.maximum(ancestor, 0)], -1)

    def counts(self) -> dict[str, int]:
        """Node counts by kind, for reports."""
        return {
            "nodes": self.num_nodes,
            "decision": int(np.count_nonzero(self.terminal == DECISION)),
            "fold_terminal": int(np.count_nonzero(self.terminal == FOLD_TERMINAL)),
            "showdown_terminal": int(np.count_nonzero(self.terminal == SHOWDOWN_TERMINAL)),
        }


class TreeBuilder:
    """Accumulates nodes in preorder and freezes them into a BettingTree."""

    def __init__(self, num_players: int, num_rounds: int) -> None:
        self.num_players = num_players
        self.num_rounds = num_rounds
        self._player: list[int] = []
        self._round: list[int] = []
        self._terminal: list[int] = []
        self._contrib: list[list[float]] = []
        self._folded: list[list[bool]] = []
        self._edges: list[list[tuple[int, int, float]]] = []  # (child, kind, amount)
        self._parent: list[int] = []
        self._labels: list[str] = []

    def add_node(self, *, player: int, round_index: int, terminal: int,
                 contrib: list[float], folded: list[bool], parent: int, label: str) -> int:
        node = len(self._player)
        self._player.append(player)
        self._round.append(round_index)
        self._terminal.append(terminal)
        self._contrib.append(list(contrib))
        self._folded.append(list(folded))
        self._edges.append([])
        self._parent.append(parent)
        self._labels.append(label)
        return node

    def add_edge(self, parent: int, child: int, kind: int, amount: float) -> None:
        self._edges[parent].append((child, kind, amount))

    def build(self, starting_stacks: tuple[float, ...] = ()) -> BettingTree:
        n = len(self._player)
        max_actions = max((len(e) for e in self._edges), default=1) or 1
        children = np.full((n, max_actions), -1, dtype=np.int32)
        kinds = np.full((n, max_actions), -1, dtype=np.int8)
        amounts = np.zeros((n, max_actions), dtype=np.float64)
        num_actions = np.zeros(n, dtype=np.int8)
        for node, edges in enumerate(self._edges):
            num_actions[node] = len(edges)
            for a, (child, kind, amount) in enumerate(edges):
                children[node, a] = child
                kinds[node, a] = kind
                amounts[node, a] = amount
        return BettingTree(
            num_players=self.num_players,
            num_rounds=self.num_rounds,
            player=np.asarray(self._player, dtype=np.int8),
            round=np.asarray(self._round, dtype=np.int8),
            num_actions=num_actions,
            children=children,
            terminal=np.asarray(self._terminal, dtype=np.int8),
            contrib=np.asarray(self._contrib, dtype=np.float64).reshape(n, self.num_players),
            folded=np.asarray(self._folded, dtype=np.bool_).reshape(n, self.num_players),
            action_kind=kinds,
            action_amount=amounts,
            parent=np.asarray(self._parent, dtype=np.int32),
            labels=tuple(self._labels),
            starting_stacks=starting_stacks,
        )


def build_limit_tree(*, num_players: int, ante: float, raise_sizes: tuple[float, ...],
                     max_raises: int, first_player: int = 0) -> BettingTree:
    """Fixed-limit betting (Kuhn, Leduc): every round starts with `first_player`; a raise adds
    `raise_sizes[round]` to the bet to match; at most `max_raises` raises a round; folding is only
    offered when facing a bet. Labels use f (fold), c (check/call), r (raise), rounds split by '/'.
    """
    num_rounds = len(raise_sizes)
    builder = TreeBuilder(num_players, num_rounds)

    def expand(contrib: list[float], folded: list[bool], round_index: int, to_act: int,
               pending: set[int], raises: int, parent: int, label: str) -> int:
        active = [p for p in range(num_players) if not folded[p]]
        if len(active) == 1:
            return builder.add_node(player=-1, round_index=round_index, terminal=FOLD_TERMINAL,
                                    contrib=contrib, folded=folded, parent=parent, label=label)
        if not pending:
            if round_index + 1 == num_rounds:
                return builder.add_node(player=-1, round_index=round_index,
                                        terminal=SHOWDOWN_TERMINAL, contrib=contrib,
                                        folded=folded, parent=parent, label=label)
            round_index += 1
            label += "/"
            to_act = first_player
            while folded[to_act]:
                to_act = (to_act + 1) % num_players
            pending = set(active)
            raises = 0
        node = builder.add_node(player=to_act, round_index=round_index, terminal=DECISION,
                                contrib=contrib, folded=folded, parent=parent, label=label)
        bet = max(contrib)
        nxt = (to_act + 1) % num_players
        while folded[nxt] and nxt != to_act:
            nxt = (nxt + 1) % num_players
        if contrib[to_act] < bet:
            new_folded = list(folded)
            new_folded[to_act] = True
            child = expand(contrib, new_folded, round_index, nxt, pending - {to_act}, raises,
                           node, label + "f")
            builder.add_edge(node, child, FOLD, contrib[to_act])
        new_contrib = list(contrib)
        new_contrib[to_act] = bet
        child = expand(new_contrib, folded, round_index, nxt, pending - {to_act}, raises, node,
                       label + "c")
        builder.add_edge(node, child, CHECK_CALL, bet)
        if raises < max_raises:
            new_contrib = list(contrib)
            new_contrib[to_act] = bet + raise_sizes[round_index]
            others = {p for p in range(num_players) if not folded[p] and p != to_act}
            child = expand(new_contrib, folded, round_index, nxt, others, raises + 1, node,
                           label + "r")
            builder.add_edge(node, child, BET_RAISE, new_contrib[to_act])
        return node

    expand([float(ante)] * num_players, [False] * num_players, 0, first_player,
           set(range(num_players)), 0, -1, "")
    return builder.build()
