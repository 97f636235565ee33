"""Exact no-limit Texas hold'em rules (2-6 players) as a plain-Python oracle, with a replay API.

See holdem_lab.rules.nlhe for the rules and the choices made where rule books differ (and the
`HandState` machine), holdem_lab.rules.actions for the action grammar, holdem_lab.rules.pots for
side pots and odd chips, holdem_lab.rules.table for `Table` and holdem_lab.rules.replay for
`replay`.
"""

from __future__ import annotations

from holdem_lab.rules.actions import Action, ActionKind, ActionLike, LegalActions, parse_action
from holdem_lab.rules.nlhe import HandState, HandValue, default_hand_value
from holdem_lab.rules.pots import Pot, PotAward, build_pots, split_pot
from holdem_lab.rules.replay import replay
from holdem_lab.rules.table import ANTE_TYPES, BOARD_CARDS_BY_STREET, Street, Table

__all__ = [
    "ANTE_TYPES",
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
