"""Replay a recorded no-limit hold'em hand and get every seat's net chip result."""

from __future__ import annotations

from collections.abc import Sequence

from holdem_lab.errors import GameError, IllegalActionError
from holdem_lab.rules.actions import Action, ActionLike
from holdem_lab.rules.nlhe import HandState, HandValue
from holdem_lab.rules.table import BOARD_CARDS_BY_STREET, Street, Table


def _action_text(spec: object) -> str:
    if isinstance(spec, Action):
        return str(spec)
    return repr(spec)


def _short_board(board: Sequence[int], state: HandState) -> GameError:
    following = Street(state.street + 1)
    return GameError(
        f"board has {len(board)} card(s) but the hand reached the {following}, which needs "
        f"{BOARD_CARDS_BY_STREET[following]}"
    )


def replay(
    table: Table,
    hole_cards: Sequence[Sequence[int]],
    board: Sequence[int],
    actions: Sequence[ActionLike],
    *,
    hand_value: HandValue | None = None,
) -> list[int]:
    """Play a recorded hand and return every seat's net chip result (sums to zero).

    `actions` are the betting actions in order, in the grammar of holdem_lab.rules.actions (e.g.
    ``["r300", "c", ("f",), ("r", 900), "c"]``). `board` holds the board cards the hand needs:
    0, 3, 4 or 5 cards, at least as many as the streets reached. An illegal action raises
    IllegalActionError naming its index, its text, whose turn it was and why; an action after
    the hand is over raises IllegalActionError; a list that ends before the hand does, or a board
    too short for the streets reached, raises GameError.
    """
    if isinstance(actions, str):
        raise GameError(f"actions must be a sequence of actions, not one string: {actions!r}")
    state = HandState(table, hole_cards, board, hand_value=hand_value)
    for index, spec in enumerate(actions):
        text = _action_text(spec)
        if state.is_terminal:
            raise IllegalActionError(
                f"action {index} ({text}): the hand is already over after {index} action(s); "
                f"{len(actions) - index} action(s) too many"
            )
        if state.needs_board:
            raise _short_board(board, state)
        try:
            state.apply(spec)
        except IllegalActionError as exc:
            raise IllegalActionError(f"action {index} ({text}): {exc}") from None
    if state.needs_board:
        raise _short_board(board, state)
    if not state.is_terminal:
        raise GameError(
            f"too few actions: after {len(actions)} action(s) the hand is not over "
            f"(seat {state.to_act} to act on the {state.street})"
        )
    return state.payoffs()
