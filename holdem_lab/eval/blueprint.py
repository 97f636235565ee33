"""A trained blueprint as a policy you can query: load it from a run or checkpoint, read action
probabilities for a situation, and lay the preflop strategy out as a 13x13 grid."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from holdem_lab.checkpoint import (
    CheckpointInfo,
    load_checkpoint,
    load_latest_complete,
    parse_checkpoint_name,
)
from holdem_lab.errors import CheckpointError, GameError, IllegalActionError
from holdem_lab.games import Game, build_game
from holdem_lab.games.tree import ACTION_KIND_NAMES, DECISION
from holdem_lab.rules.actions import Action
from holdem_lab.rundir import RunDir, game_spec_of, summarize_problems


@dataclass(frozen=True, eq=False)
class Blueprint:
    """A game and the average policy trained on it (rows x actions)."""

    game: Game
    policy: np.ndarray
    iteration: int
    source: str

    def node_actions(self, node: int) -> list[str]:
        """Readable labels of the actions at a decision node."""
        tree = self.game.tree
        labels = []
        for a in range(int(tree.num_actions[node])):
            kind = ACTION_KIND_NAMES[int(tree.action_kind[node, a])]
            amount = tree.action_amount[node, a]
            labels.append(kind if kind in ("fold", "check/call") else f"{kind} to {amount:g}")
        return labels

    def probabilities(self, node: int, bucket: int) -> dict[str, float]:
        """Action probabilities at (decision node, bucket)."""
        if self.game.tree.terminal[node] != DECISION:
            raise GameError(f"node {node} is not a decision node")
        row = self.game.row_of(node, bucket)
        return {label: float(self.policy[row, a])
                for a, label in enumerate(self.node_actions(node))}

    def bucket_of(self, hole: str | Sequence[int], board: str | Sequence[int] = "") -> int:
        """The Hold'em bucket of hole cards and a visible board (0, 3, 4 or 5 cards), through
        the suit-isomorphic index and the game's bucket tables."""
        from holdem_lab.cards.deck import parse_cards
        from holdem_lab.games.dealing import holdem_bucket

        game = self.game
        if game.name != "holdem":
            raise GameError("bucket_of is for Hold'em blueprints")
        hole_cards = [int(c) for c in (parse_cards(hole) if isinstance(hole, str) else hole)]
        board_cards = [int(c) for c in (parse_cards(board) if isinstance(board, str) else board)]
        rounds = {0: 0, 3: 1, 4: 2, 5: 3}
        if len(hole_cards) != 2 or len(board_cards) not in rounds:
            raise GameError(f"need 2 hole cards and 0, 3, 4 or 5 board cards, got "
                            f"{len(hole_cards)} and {len(board_cards)}")
        if len(set(hole_cards + board_cards)) != len(hole_cards) + len(board_cards):
            raise GameError("a card appears twice")
        hand = np.zeros(7, dtype=np.int64)
        hand[: 2 + len(board_cards)] = hole_cards + board_cards
        return int(holdem_bucket(hand, rounds[len(board_cards)], game.holdem_bucket_tables,
                                 game.holdem_table_offsets))

    def query(self, hole: str, board: str = "",
              actions: Sequence[str] = ()) -> dict[str, float]:
        """Action probabilities of the player to act in a real heads-up or multi-way situation:
        `hole` cards of that player, the visible `board`, and the hand's `actions` so far
        ("f", "x", "c", "b<to>"/"r<to>"), mapped onto the abstract betting tree by
        pseudo-harmonic action translation (Ganzfried & Sandholm 2013).

        Amounts are in the unit of the labels this returns ("bet/raise to 15"): the chips the
        player has put in over the whole hand once the bet is made, blinds and antes included.
        So a label's amount, sent back as ``r15``, is that very action."""
        node = self.node_of(actions)
        expected_round = int(self.game.tree.round[node])
        board_count = (0, 3, 4, 5)[expected_round]
        cards = board.replace(" ", "")
        if len(cards) // 2 != board_count:
            raise GameError(f"the actions lead to round {expected_round}, which shows "
                            f"{board_count} board cards; got {board!r}")
        return self.probabilities(node, self.bucket_of(hole, board))

    def node_of(self, actions: Sequence[str]) -> int:
        """The abstract decision node a hand's ``actions`` (amounts as hand totals, see
        :meth:`query`) are translated to."""
        from holdem_lab.games.translation import map_history

        if self.game.name != "holdem":
            raise GameError("queries by real actions are for Hold'em blueprints")
        mapping = map_history(self.game.tree, street_totals(self.game, actions))
        if mapping.hand_over or self.game.tree.terminal[mapping.node] != DECISION:
            raise GameError("the hand is over after these actions: no decision to query")
        return mapping.node

    def save_preflop_csv(self, path: str | Path, node: int = 0) -> Path:
        """Write :func:`preflop_csv` to ``path`` (atomically) and return the path."""
        from holdem_lab.checkpoint import atomic_write

        atomic_write(path, preflop_csv(self, node))
        return Path(path)

    def preflop_grid(self, node: int) -> np.ndarray:
        """(13, 13, num_actions) probabilities at a preflop node of a Hold'em blueprint with a
        lossless preflop: pairs on the diagonal, suited hands above it, offsuit below, aces in
        the top-left corner."""
        from holdem_lab.cards.isomorphism import preflop_grid_position

        game = self.game
        if game.name != "holdem" or game.num_buckets[0] != 169:
            raise GameError("the preflop grid needs Hold'em with lossless preflop buckets")
        if game.tree.round[node] != 0 or game.tree.terminal[node] != DECISION:
            raise GameError(f"node {node} is not a preflop decision node")
        actions = int(game.tree.num_actions[node])
        grid = np.zeros((13, 13, actions))
        for cls in range(169):
            row_index, col = preflop_grid_position(cls)
            grid[row_index, col] = self.policy[game.row_of(node, cls), :actions]
        return grid


def preflop_csv(blueprint: Blueprint, node: int = 0) -> str:
    """The preflop chart of a lossless-preflop Hold'em blueprint at ``node`` as CSV: one row per
    hand class in grid order (``AA``, ``AKs``, … ``22``), one column per action label."""
    import csv
    import io

    from holdem_lab.cards.isomorphism import preflop_class_name, preflop_grid_position

    grid = blueprint.preflop_grid(node)
    labels = blueprint.node_actions(node)
    classes = sorted(range(169), key=preflop_grid_position)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["hand", *labels])
    for cls in classes:
        row, col = preflop_grid_position(cls)
        writer.writerow([preflop_class_name(cls), *(f"{p:.6f}" for p in grid[row, col])])
    return buffer.getvalue()


def street_totals(game: Game, actions: Sequence[str]) -> list[Action]:
    """A hand's actions with each bet or raise amount turned from the chips the player has in
    the whole hand (the labels' unit) into the street total the rules engine and
    :func:`holdem_lab.games.translation.map_history` read; IllegalActionError names an action
    the hand cannot take, in the amount it was given."""
    from holdem_lab.games.betting import holdem_tree_params
    from holdem_lab.rules.actions import ActionKind, parse_action
    from holdem_lab.rules.nlhe import HandState

    table = holdem_tree_params(game.tree).table
    players = table.num_players
    # The cards never matter to the betting; any distinct ones do.
    state = HandState(table, [(2 * seat, 2 * seat + 1) for seat in range(players)],
                      list(range(2 * players, 2 * players + 5)), hand_value=lambda cards: 0)
    converted: list[Action] = []
    for index, spec in enumerate(actions):
        try:
            action = parse_action(spec)
        except IllegalActionError as exc:
            raise IllegalActionError(f"action {index}: {exc}") from None
        seat = state.to_act
        if state.is_terminal or seat is None:
            converted.append(action)  # the translation says the hand is over
            continue
        try:
            if action.kind is ActionKind.RAISE and action.amount is not None:
                earlier_streets = state.contributions[seat] - state.bets[seat]
                action = Action(ActionKind.RAISE, action.amount - earlier_streets)
            state.apply(action)
        except IllegalActionError as exc:
            raise IllegalActionError(f"action {index} ({spec}, chips in the hand): "
                                     f"{exc}") from None
        converted.append(action)
    return converted


def load_blueprint(path: str | Path, *, buckets: str | Path | None = None) -> Blueprint:
    """A blueprint from a run directory (its newest complete checkpoint) or from a checkpoint's
    policy file (`checkpoint_iter…npz`), from any working directory: a Hold'em checkpoint's
    bucket file is its recorded path, else the file with its sha256 next to the run or in the
    bucket directory (see :func:`holdem_lab.rundir.game_spec_of`), or ``buckets`` when given."""
    path = Path(path)
    if path.is_dir():
        run = RunDir(path)
        directory = run.checkpoints if run.checkpoints.is_dir() else path
        run_root = path if run.checkpoints.is_dir() else path.parent
        loaded, problems = load_latest_complete(directory)
        if loaded is None:
            raise CheckpointError(f"no complete checkpoint in {directory}"
                                  + (": " + summarize_problems(problems) if problems else ""))
    elif not path.exists():
        raise CheckpointError(f"{path} does not exist: give a run directory or one of its "
                              "checkpoint_iter….npz files")
    else:
        iteration = parse_checkpoint_name(path.name)
        if iteration is None:
            raise CheckpointError(f"{path} is not a checkpoint file name")
        loaded = load_checkpoint(CheckpointInfo(iteration, path.parent))
        run_root = path.parent.parent
    game = build_game(game_spec_of(loaded.metadata, run_root=run_root, buckets=buckets))
    policy = loaded.policy["average_policy"]
    if policy.shape != (game.num_rows, game.max_actions):
        raise CheckpointError(f"{loaded.info.policy_path}: policy shape {policy.shape} does "
                              f"not fit the game {(game.num_rows, game.max_actions)}")
    return Blueprint(game=game, policy=policy, iteration=loaded.iteration,
                     source=str(loaded.info.policy_path))
