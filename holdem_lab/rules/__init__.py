"""Exact no-limit Texas hold'em rules (2-6 players) as a plain-Python oracle, with a replay API.

See holdem_lab.rules.nlhe for the rules and the choices made where rule books differ,
holdem_lab.rules.actions for the action grammar and holdem_lab.rules.pots for side pots.
"""

from __future__ import annotations

from holdem_lab.rules.actions import Action, ActionKind, ActionLike, parse_action
from holdem_lab.rules.nlhe import (
    BOARD_CARDS_BY_STREET,
    HandState,
    HandValue,
    LegalActions,
    Street,
    Table,
    default_hand_value,
    replay,
)
from holdem_lab.rules.pots import Pot, PotAward, build_pots, split_pot

__all__ = [
    "BOARD_CARDS_BY_STREET",
    "Action",
    "ActionKind",
    "ActionLike",
    "HandState",
    "HandValue",
    "LegalActions",
    "Pot",
    "PotAward",
    "Street",
    "Table",
    "build_pots",
    "default_hand_value",
    "parse_action",
    "replay",
    "split_pot",
]
