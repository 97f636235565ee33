"""The one game shape every solver and evaluator works on.

A `Game` is a betting tree (public actions), a card model (what chance deals and when), a card
abstraction (private information -> bucket per round) and a showdown rule. An infoset is a
(decision node, bucket) pair and owns one row of the solver's dense tables:
`row = row_offset[node] + bucket * row_stride[node]`.

Kuhn and Leduc keep each node's rows together (stride 1). Hold'em stores the rows
bucket-major within each (player, round) group: the rows of one bucket at every node of the
group are adjacent, so the rows a traversal touches for one deal sit in a few compact blocks of
a table of hundreds of thousands of rows instead of one cache line each across all of it.

`GameArrays` is the same game as a tuple of numpy arrays and integers, the only form numba
kernels see.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from holdem_lab.games.tree import DECISION, BettingTree

# How chance deals and how hands compare (GameArrays.showdown_kind).
SHOWDOWN_HIGH_CARD = 0  # Kuhn: the higher private card wins
SHOWDOWN_LEDUC = 1  # a pair with the public card wins, else the higher private card
SHOWDOWN_HOLDEM = 2  # best five of seven cards

# How buckets are computed (GameArrays.bucket_kind).
BUCKETS_SMALL_TABLE = 0  # lookup by (round, private card, public card)
BUCKETS_HOLDEM = 1  # preflop class, then per-round tables keyed by the isomorphic hand index


class GameArrays(NamedTuple):
    """Everything a numba kernel needs about a game (see Game)."""

    num_players: int
    num_rounds: int
    max_depth: int
    player: np.ndarray
    round: np.ndarray
    num_actions: np.ndarray
    children: np.ndarray
    terminal: np.ndarray
    contrib: np.ndarray
    row_offset: np.ndarray
    row_stride: np.ndarray
    deck_size: int
    card_rank: np.ndarray
    hole_cards: int
    board_total: int
    board_visible: np.ndarray
    showdown_kind: int
    bucket_kind: int
    small_bucket_table: np.ndarray
    holdem_bucket_tables: np.ndarray
    holdem_table_offsets: np.ndarray
    node_table: np.ndarray
    node_amounts: np.ndarray
    node_contrib: np.ndarray
    node_folded: np.ndarray
    node_row: np.ndarray


# The training kernels read a node through one row of `GameArrays.node_table`, which holds
# everything a visit needs, so that a visit touches one cache line instead of a line in each of
# eleven per-field arrays (Hold'em trees have thousands of nodes, and per-field arrays do not stay
# in cache next to the infoset tables). A decision node's row holds its word (below), its row
# offset and stride and its children. A terminal node's row holds its word and, read through
# `GameArrays.node_amounts` (a float64 view of the same bytes), the pot and every player's
# contribution. The table is int32 unless a row index needs more bits; a row is 32 or a
# multiple of 64 bytes. Rows are in sibling order (`node_order`): a node's children have
# consecutive rows, so the rows a traverser node prefetches and then descends into share cache
# lines. Child columns hold child *rows*; row 0 is the root. Side pots, the one rare case that
# needs more, read `GameArrays.node_contrib` (the contribution columns of `node_amounts`) and
# `node_folded` (the tree's folded flags by row). `GameArrays.node_row` is each tree node's row,
# for kernels that walk the tree arrays and read a terminal's payoff from the table.
NODE_WORD = 0
"""int column of `low | round << 8 | terminal << 16 | num_actions << 24`, where `low` is the
player to act at a decision node and the flags below at a terminal node."""
NODE_ROW_OFFSET = 1
NODE_ROW_STRIDE = 2
NODE_CHILDREN = 3
"""int column of the first of a decision node's `num_actions` children."""
TERMINAL_POT = 1
TERMINAL_CONTRIB = 2
"""float column of player 0's contribution at a terminal node (player p's is at 2 + p)."""
TERMINAL_EQUAL_LIVE = 1 << 7
"""Set in a terminal node's word when every live player put in the same amount (no side pot);
bit p of the word is set when player p has folded."""
TERMINAL_DEAD_MONEY = 1 << 27
"""Set in a terminal node's word when the tree has dead money (`BettingTree.dead_money`); bits
24-26 then hold the seat that posted it. Its contribution column leaves the dead money out, so
side pots layer live chips only; the pot column keeps it."""
MAX_NODE_PLAYERS = 7


def node_order(tree: BettingTree) -> np.ndarray:
    """Row of each tree node in `GameArrays.node_table`: the root first, then depth first, with
    the children of a node given consecutive rows when the node is reached."""
    rows = np.full(tree.num_nodes, -1, dtype=np.int64)
    rows[0] = 0
    taken = 1
    stack = [0]
    while stack:
        node = stack.pop()
        if tree.terminal[node] != DECISION:
            continue
        children = tree.children[node, : int(tree.num_actions[node])].astype(np.int64)
        rows[children] = np.arange(taken, taken + len(children))
        taken += len(children)
        stack.extend(reversed(children.tolist()))
    if taken != tree.num_nodes:
        raise ValueError("the tree has nodes unreachable from the root")
    return rows


def _node_row_bytes(tree: BettingTree, itemsize: int) -> int:
    return _row_bytes(tree.max_actions, tree.num_players, itemsize)


def _row_bytes(max_actions: int, num_players: int, itemsize: int) -> int:
    row_bytes = max((NODE_CHILDREN + max_actions) * itemsize,
                    (TERMINAL_CONTRIB + num_players) * 8)
    return 32 if row_bytes <= 32 else -(-row_bytes // 64) * 64


def node_table_bytes(tree: BettingTree) -> int:
    """Memory `Game.arrays()` adds for the kernels' node table and its folded flags (int64
    rows: the larger of the two layouts)."""
    return node_table_bytes_for(tree.num_nodes, tree.max_actions, tree.num_players)


def node_table_bytes_for(num_nodes: int, max_actions: int, num_players: int) -> int:
    """`node_table_bytes` of a tree known only by its size (see holdem_lab.games.betting)."""
    return num_nodes * (_row_bytes(max_actions, num_players, 8) + num_players) + 64


def node_table(tree: BettingTree, row_offset: np.ndarray, row_stride: np.ndarray,
               equal_live: np.ndarray, rows: np.ndarray | None = None,
               dtype: type[np.signedinteger[Any]] | None = None) -> np.ndarray:
    """The packed per-node rows of `GameArrays.node_table` (see NODE_WORD), at the rows
    `node_order` gives (computed if `rows` is None), starting on a 64-byte boundary. `dtype`
    (int32 or int64) is chosen from the largest index if None."""
    if tree.num_players > MAX_NODE_PLAYERS:
        raise ValueError(f"at most {MAX_NODE_PLAYERS} players, got {tree.num_players}")
    if dtype is None:
        wide = max(int(row_offset.max(initial=0)), int(row_stride.max(initial=0)),
                   tree.num_nodes) >= 2**31
        dtype = np.int64 if wide else np.int32
    itemsize = np.dtype(dtype).itemsize
    row_bytes = _node_row_bytes(tree, itemsize)
    table = np.zeros((tree.num_nodes, row_bytes // itemsize), dtype=dtype)
    decision = tree.terminal == DECISION
    low = np.where(decision, tree.player.astype(np.int64), 0)
    for p in range(tree.num_players):
        low |= np.where(decision, 0, tree.folded[:, p].astype(np.int64) << p)
    low |= np.where(~decision & (equal_live != 0), TERMINAL_EQUAL_LIVE, 0)
    if tree.dead_money:
        low |= np.where(decision, 0, TERMINAL_DEAD_MONEY | tree.dead_money_seat << 24)
    table[:, NODE_WORD] = (low | tree.round.astype(np.int64) << 8
                           | tree.terminal.astype(np.int64) << 16
                           | tree.num_actions.astype(np.int64) << 24)
    table[decision, NODE_ROW_OFFSET] = row_offset[decision]
    table[decision, NODE_ROW_STRIDE] = row_stride[decision]
    if rows is None:
        rows = node_order(tree)
    children = tree.children[decision].astype(np.int64)
    real = np.arange(tree.max_actions)[None, :] < tree.num_actions[decision][:, None]
    table[decision, NODE_CHILDREN:NODE_CHILDREN + tree.max_actions] = \
        np.where(real, rows[np.where(real, children, 0)], 0)
    amounts = table.view(np.float64)
    amounts[~decision, TERMINAL_POT] = tree.contrib[~decision].sum(axis=1)
    amounts[~decision, TERMINAL_CONTRIB:TERMINAL_CONTRIB + tree.num_players] = \
        _live_contrib(tree)[~decision]
    # 64-byte aligned, so that a 32- or 64-byte row never straddles two cache lines.
    buffer = np.empty(table.nbytes + 64, dtype=np.uint8)
    start = -buffer.ctypes.data % 64
    ordered = buffer[start:start + table.nbytes].view(table.dtype).reshape(table.shape)
    ordered[rows] = table
    return ordered


class PackedNodes(NamedTuple):
    """The node table and the views of it that kernels read (see GameArrays.node_table)."""

    rows: np.ndarray
    table: np.ndarray
    amounts: np.ndarray
    contrib: np.ndarray
    folded: np.ndarray


def packed_nodes(tree: BettingTree, row_offset: np.ndarray,
                 row_stride: np.ndarray) -> PackedNodes:
    """The node table of `tree` in `node_order`, its float64 view, the view's contribution
    columns and the tree's folded flags by row."""
    rows = node_order(tree)
    table = node_table(tree, row_offset, row_stride, _equal_live(tree), rows)
    amounts = table.view(np.float64)
    folded = np.empty_like(tree.folded, dtype=np.uint8)
    folded[rows] = tree.folded
    return PackedNodes(rows=rows, table=table, amounts=amounts,
                       contrib=amounts[:, TERMINAL_CONTRIB:TERMINAL_CONTRIB + tree.num_players],
                       folded=folded)


def _live_contrib(tree: BettingTree) -> np.ndarray:
    """`tree.contrib` without the dead money (the chips side pots are layered from)."""
    if not tree.dead_money:
        return tree.contrib
    contrib = tree.contrib.copy()
    contrib[:, tree.dead_money_seat] -= tree.dead_money
    return contrib


def _equal_live(tree: BettingTree) -> np.ndarray:
    """1 where every live (non-folded) player has put in the same amount: no side pot."""
    live = np.where(tree.folded, np.nan, _live_contrib(tree))
    with np.errstate(invalid="ignore"):
        spread = np.nanmax(live, axis=1) - np.nanmin(live, axis=1)
    return (spread == 0).astype(np.uint8)


@dataclass(frozen=True, eq=False)
class CardModel:
    """What chance deals: a deck (ranks and suits), `hole_cards` private cards per player, and
    `board_visible[r]` public cards visible in round r (cumulative)."""

    card_rank: np.ndarray
    card_suit: np.ndarray
    hole_cards: int
    board_visible: tuple[int, ...]
    card_names: tuple[str, ...]

    @property
    def deck_size(self) -> int:
        return int(self.card_rank.shape[0])

    @property
    def board_total(self) -> int:
        return self.board_visible[-1]


@dataclass(frozen=True, eq=False)
class Game:
    """A game ready for the solver: tree + cards + abstraction + infoset rows."""

    name: str
    params: dict[str, Any]
    tree: BettingTree
    cards: CardModel
    showdown_kind: int
    bucket_kind: int
    num_buckets: tuple[int, ...]
    small_bucket_table: np.ndarray
    exact_bucket_table: np.ndarray
    num_exact_buckets: tuple[int, ...]
    bucket_names: tuple[tuple[str, ...], ...]
    bucket_hash: str | None = None
    holdem_bucket_tables: np.ndarray = field(
        default_factory=lambda: np.zeros(1, dtype=np.int32))
    holdem_table_offsets: np.ndarray = field(
        default_factory=lambda: np.zeros(5, dtype=np.int64))
    row_offset: np.ndarray = field(init=False)
    row_stride: np.ndarray = field(init=False)
    num_rows: int = field(init=False)
    row_groups: np.ndarray | None = field(init=False)
    """Hold'em: the rows [start, end) of each (player, round), shape (players, rounds, 2), in
    row order; None for Kuhn and Leduc, whose rows follow the tree."""

    def __post_init__(self) -> None:
        tree = self.tree
        offsets = np.full(tree.num_nodes, -1, dtype=np.int64)
        strides = np.zeros(tree.num_nodes, dtype=np.int64)
        decision = np.asarray(tree.decision_nodes, dtype=np.int64)
        buckets = np.asarray(self.num_buckets, dtype=np.int64)
        if self.bucket_kind == BUCKETS_HOLDEM:
            # Bucket-major per (player, round) group, groups in (player, round) order and nodes
            # in tree order within a group.
            groups = tree.num_players * tree.num_rounds
            keys = tree.player[decision].astype(np.int64) * tree.num_rounds \
                + tree.round[decision].astype(np.int64)
            counts = np.bincount(keys, minlength=groups)
            group_rows = counts * buckets[np.arange(groups) % tree.num_rounds]
            group_base = np.cumsum(group_rows) - group_rows
            order = np.argsort(keys, kind="stable")
            first_in_group = np.cumsum(counts) - counts
            local = np.empty(len(decision), dtype=np.int64)
            local[order] = np.arange(len(decision)) - first_in_group[keys[order]]
            offsets[decision] = group_base[keys] + local
            strides[decision] = counts[keys]
            total = int(group_rows.sum())
            row_groups: np.ndarray | None = np.stack(
                [group_base, group_base + group_rows], axis=1).reshape(
                tree.num_players, tree.num_rounds, 2)
        else:
            sizes = buckets[tree.round[decision].astype(np.int64)]
            offsets[decision] = np.cumsum(sizes) - sizes
            strides[decision] = 1
            total = int(sizes.sum())
            row_groups = None
        object.__setattr__(self, "row_offset", offsets)
        object.__setattr__(self, "row_stride", strides)
        object.__setattr__(self, "num_rows", total)
        object.__setattr__(self, "row_groups", row_groups)

    @property
    def num_players(self) -> int:
        return self.tree.num_players

    @property
    def max_actions(self) -> int:
        return self.tree.max_actions

    def arrays(self) -> GameArrays:
        tree = self.tree
        packed = packed_nodes(tree, self.row_offset, self.row_stride)
        return GameArrays(
            num_players=tree.num_players,
            num_rounds=tree.num_rounds,
            max_depth=tree.max_depth,
            player=tree.player,
            round=tree.round,
            num_actions=tree.num_actions,
            children=tree.children,
            terminal=tree.terminal,
            contrib=tree.contrib,
            row_offset=self.row_offset,
            row_stride=self.row_stride,
            deck_size=self.cards.deck_size,
            card_rank=self.cards.card_rank.astype(np.int64),
            hole_cards=self.cards.hole_cards,
            board_total=self.cards.board_total,
            board_visible=np.asarray(self.cards.board_visible, dtype=np.int64),
            showdown_kind=self.showdown_kind,
            bucket_kind=self.bucket_kind,
            small_bucket_table=self.small_bucket_table,
            holdem_bucket_tables=self.holdem_bucket_tables,
            holdem_table_offsets=self.holdem_table_offsets,
            node_table=packed.table,
            node_amounts=packed.amounts,
            node_contrib=packed.contrib,
            node_folded=packed.folded,
            node_row=packed.rows,
        )

    def row_of(self, node: int, bucket: int) -> int:
        """Infoset row of (decision node, bucket)."""
        if self.tree.terminal[node] != DECISION:
            raise ValueError(f"node {node} is not a decision node")
        return int(self.row_offset[node] + bucket * self.row_stride[node])

    def rows_of_node(self, node: int) -> range:
        """Rows of a decision node's infosets, bucket 0 first (a range with a step: contiguous
        for Kuhn and Leduc, strided for Hold'em)."""
        start = int(self.row_offset[node])
        step = int(self.row_stride[node])
        return range(start, start + self.num_buckets[int(self.tree.round[node])] * step, step)

    def row_action_mask(self) -> np.ndarray:
        """Boolean (num_rows, max_actions): which columns of a row are real actions."""
        mask = np.zeros((self.num_rows, self.max_actions), dtype=np.bool_)
        for node in self.tree.decision_nodes:
            rows = self.rows_of_node(int(node))
            mask[rows.start:rows.stop:rows.step, : int(self.tree.num_actions[node])] = True
        return mask

    def identity(self) -> dict[str, Any]:
        """What defines the game for resume validation: name, parameters, bucket hash and a
        digest of the tree and abstraction layout."""
        digest = hashlib.sha256()
        for array in (self.tree.player, self.tree.round, self.tree.children, self.tree.contrib,
                      np.asarray(self.num_buckets)):
            digest.update(np.ascontiguousarray(array).tobytes())
        if self.bucket_kind == BUCKETS_HOLDEM:
            # Hold'em rows are bucket-major (module docstring): the marker keeps a checkpoint
            # written with another row layout from being resumed.
            digest.update(b"rows: bucket-major per (player, round)")
        params = {k: v for k, v in self.params.items() if k != "buckets"}
        return {
            "game": self.name,
            "params": json.loads(json.dumps(params)),
            "bucket_hash": self.bucket_hash,
            "layout_sha256": digest.hexdigest(),
            "num_rows": self.num_rows,
        }

    def node_counts(self) -> dict[str, int]:
        counts = self.tree.counts()
        counts["infosets"] = self.num_rows
        return counts
