"""Strategy views: what the explorer can show for a game, as plain data.

A view turns a policy (``(num_rows, max_actions)`` action probabilities over the game's
infoset rows) into :class:`Panel` objects: titled 2-D grids with row and column labels, drawn
by the explorer as heatmaps and tables. A view also names its *choices* (the picker next to
it: a betting node, a player, a betting history), so the explorer needs no game-specific code.

Which views a game gets is decided by :func:`views_for`. Kuhn and Leduc get the built-in
infoset views; a game module can provide its own with :func:`register_views`, e.g. the Hold'em
module::

    from holdem_lab.lab.views import register_views, PreflopGridView, default_views

    register_views("holdem", lambda game: [PreflopGridView(), *default_views(game)])

:class:`PreflopGridView` (one 13x13 grid per action for a preflop betting history) works for
any game whose first-round bucket names are the 169 hand classes (``"AA"``, ``"AKs"``,
``"AKo"``...); it is offered automatically when they are.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from holdem_lab.games import Game
from holdem_lab.games.tree import ALL_IN, BET_RAISE, CHECK_CALL, FOLD

PROBABILITY = "probability"
CHANGE = "change"

RANKS = "AKQJT98765432"
"""Ranks from the top-left of a preflop grid."""


@dataclass(frozen=True)
class Panel:
    """One titled grid: ``values[i, j]`` for row ``row_labels[i]`` and column
    ``column_labels[j]`` (NaN where the column does not apply). ``kind`` is ``probability``
    (values in [0, 1]) or ``change`` (a difference of probabilities, in [-1, 1])."""

    title: str
    row_labels: tuple[str, ...]
    column_labels: tuple[str, ...]
    values: np.ndarray
    kind: str = PROBABILITY

    def __post_init__(self) -> None:
        if self.values.shape != (len(self.row_labels), len(self.column_labels)):
            raise ValueError(f"panel {self.title!r}: values of shape {self.values.shape} for "
                             f"{len(self.row_labels)} rows and {len(self.column_labels)} columns")

    def to_dict(self) -> dict[str, Any]:
        """Plain data (lists, None for NaN) for tests and JSON."""
        return {"title": self.title, "kind": self.kind, "rows": list(self.row_labels),
                "columns": list(self.column_labels),
                "values": [[None if np.isnan(v) else float(v) for v in row]
                           for row in self.values]}

    def cell(self, row: str, column: str) -> float:
        """The value at (row label, column label)."""
        return float(self.values[self.row_labels.index(row), self.column_labels.index(column)])


class StrategyView(ABC):
    """A way of looking at a policy. Subclasses set ``name`` (shown in the view menu) and
    ``picker`` (the label of the choice menu) and implement :meth:`choices` and
    :meth:`panels`."""

    name: str = "view"
    picker: str = "choice"

    @abstractmethod
    def choices(self, game: Game) -> list[tuple[str, int]]:
        """(label, value) pairs for the picker, in display order."""

    @abstractmethod
    def panels(self, game: Game, policy: np.ndarray, choice: int,
               baseline: np.ndarray | None = None) -> list[Panel]:
        """The grids for one choice; with a ``baseline`` policy, ``policy - baseline``."""


# --------------------------------------------------------------------------------------------
# Labels


def action_names(game: Game, node: int) -> list[str]:
    """Readable names of a node's actions: fold, check, call, bet/raise to N, all-in."""
    tree = game.tree
    actions = range(int(tree.num_actions[node]))
    # A fold is offered exactly when there is a bet to face (chips in would count a big
    # blind's dead ante as one).
    facing = any(int(tree.action_kind[node, a]) == FOLD for a in actions)
    names = []
    for a in actions:
        kind = int(tree.action_kind[node, a])
        amount = float(tree.action_amount[node, a])
        if kind == FOLD:
            names.append("fold")
        elif kind == CHECK_CALL:
            names.append("call" if facing else "check")
        elif kind == BET_RAISE:
            names.append(f"{'raise' if facing else 'bet'} to {amount:g}")
        elif kind == ALL_IN:
            names.append("all-in")
        else:
            names.append(f"action {a}")
    return names


def node_label(game: Game, node: int) -> str:
    """``P<player> · <history>`` for a decision node (the root reads ``(start)``)."""
    history = game.tree.labels[node] or "(start)"
    return f"P{int(game.tree.player[node])} · {history}"


def _values(game: Game, policy: np.ndarray, baseline: np.ndarray | None,
            rows: range, actions: int) -> np.ndarray:
    picked = slice(rows.start, rows.stop, rows.step)
    values = np.asarray(policy[picked, :actions], dtype=np.float64)
    if baseline is not None:
        values = values - np.asarray(baseline[picked, :actions], dtype=np.float64)
    return values


def _check_policy(game: Game, policy: np.ndarray) -> None:
    if policy.shape != (game.num_rows, game.max_actions):
        raise ValueError(f"policy of shape {policy.shape} does not fit {game.name} "
                         f"({game.num_rows} infosets x {game.max_actions} actions)")


# --------------------------------------------------------------------------------------------
# Built-in views


class NodeView(StrategyView):
    """One decision node: its private-information buckets (rows) by its actions (columns)."""

    name = "infosets of a node"
    picker = "node"

    def choices(self, game: Game) -> list[tuple[str, int]]:
        return [(node_label(game, int(n)), int(n)) for n in game.tree.decision_nodes]

    def panels(self, game: Game, policy: np.ndarray, choice: int,
               baseline: np.ndarray | None = None) -> list[Panel]:
        _check_policy(game, policy)
        node = int(choice)
        names = action_names(game, node)
        round_ = int(game.tree.round[node])
        values = _values(game, policy, baseline, game.rows_of_node(node), len(names))
        prefix = "change at " if baseline is not None else ""
        return [Panel(f"{prefix}{node_label(game, node)}", tuple(game.bucket_names[round_]),
                      tuple(names), values, CHANGE if baseline is not None else PROBABILITY)]


class PlayerView(StrategyView):
    """Every infoset of one player in one table: (node history | bucket) by action kind."""

    name = "all infosets of a player"
    picker = "player"

    COLUMNS = ("fold", "check/call", "bet/raise", "all-in")

    def choices(self, game: Game) -> list[tuple[str, int]]:
        return [(f"player {p}", p) for p in range(game.num_players)]

    def panels(self, game: Game, policy: np.ndarray, choice: int,
               baseline: np.ndarray | None = None) -> list[Panel]:
        _check_policy(game, policy)
        tree = game.tree
        labels: list[str] = []
        blocks: list[np.ndarray] = []
        for node in tree.decision_nodes:
            node = int(node)
            if int(tree.player[node]) != int(choice):
                continue
            actions = int(tree.num_actions[node])
            values = _values(game, policy, baseline, game.rows_of_node(node), actions)
            block = np.full((values.shape[0], len(self.COLUMNS)), np.nan)
            for a in range(actions):
                block[:, int(tree.action_kind[node, a])] = values[:, a]
            blocks.append(block)
            history = tree.labels[node] or "(start)"
            labels += [f"{history} | {bucket}"
                       for bucket in game.bucket_names[int(tree.round[node])]]
        values = np.vstack(blocks) if blocks else np.zeros((0, len(self.COLUMNS)))
        used = [j for j in range(len(self.COLUMNS)) if not np.all(np.isnan(values[:, j]))]
        prefix = "change, " if baseline is not None else ""
        return [Panel(f"{prefix}player {int(choice)}: every infoset", tuple(labels),
                      tuple(self.COLUMNS[j] for j in used), values[:, used],
                      CHANGE if baseline is not None else PROBABILITY)]


def preflop_hand_classes() -> list[list[str]]:
    """The 13x13 preflop grid of hand classes: pairs on the diagonal, suited hands above it,
    offsuit hands below it (``grid[0][1] == "AKs"``, ``grid[1][0] == "AKo"``)."""
    grid = []
    for i, high in enumerate(RANKS):
        row = []
        for j, other in enumerate(RANKS):
            if i == j:
                row.append(high + high)
            elif i < j:
                row.append(high + other + "s")
            else:
                row.append(other + high + "o")
        grid.append(row)
    return grid


def preflop_grid(values: Mapping[str, float]) -> np.ndarray:
    """A 13x13 array from {hand class: value}; NaN for classes not given."""
    grid = np.full((13, 13), np.nan)
    for i, row in enumerate(preflop_hand_classes()):
        for j, name in enumerate(row):
            if name in values:
                grid[i, j] = float(values[name])
    return grid


class PreflopGridView(StrategyView):
    """One 13x13 hand-class grid per action, for a first-round betting history."""

    name = "preflop grid"
    picker = "betting history"

    @staticmethod
    def applies_to(game: Game) -> bool:
        """True when the first round's buckets are exactly the 169 hand classes."""
        names = set(game.bucket_names[0]) if game.bucket_names else set()
        return names == {name for row in preflop_hand_classes() for name in row}

    def choices(self, game: Game) -> list[tuple[str, int]]:
        return [(node_label(game, int(n)), int(n)) for n in game.tree.decision_nodes
                if int(game.tree.round[n]) == 0]

    def panels(self, game: Game, policy: np.ndarray, choice: int,
               baseline: np.ndarray | None = None) -> list[Panel]:
        _check_policy(game, policy)
        node = int(choice)
        names = action_names(game, node)
        values = _values(game, policy, baseline, game.rows_of_node(node), len(names))
        buckets = game.bucket_names[0]
        kind = CHANGE if baseline is not None else PROBABILITY
        labels = tuple(RANKS)
        return [Panel(f"{node_label(game, node)}: {action}", labels, labels,
                      preflop_grid({buckets[b]: values[b, a] for b in range(len(buckets))}),
                      kind)
                for a, action in enumerate(names)]


# --------------------------------------------------------------------------------------------
# Registry

ViewFactory = Callable[[Game], Sequence[StrategyView]]
_FACTORIES: dict[str, ViewFactory] = {}


def default_views(game: Game) -> list[StrategyView]:
    """The views every game gets: per node, and per player."""
    return [NodeView(), PlayerView()]


def register_views(game_name: str, factory: ViewFactory, *, replace: bool = False) -> None:
    """Make ``views_for`` use ``factory(game)`` for games named ``game_name``. Registering a
    name twice is an error unless ``replace`` (a game module imported twice must not silently
    swap views)."""
    if game_name in _FACTORIES and not replace:
        raise ValueError(f"views for {game_name!r} are already registered")
    _FACTORIES[game_name] = factory


def unregister_views(game_name: str) -> None:
    """Forget the views registered for ``game_name`` (missing names are fine)."""
    _FACTORIES.pop(game_name, None)


def views_for(game: Game) -> list[StrategyView]:
    """The views available for a game: its registered ones, else the defaults, preceded by the
    preflop grid when the game's first-round buckets are the 169 hand classes."""
    factory = _FACTORIES.get(game.name)
    if factory is not None:
        views = list(factory(game))
        if not views:
            raise ValueError(f"the views registered for {game.name!r} returned none")
        return views
    views = default_views(game)
    if PreflopGridView.applies_to(game):
        views.insert(0, PreflopGridView())
    return views
