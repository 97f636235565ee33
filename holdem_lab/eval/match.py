"""Hold'em matches with duplicate deals and confidence intervals.

Heads-up, each deal is played twice with the same cards per seat and the agents swapped, which
cancels most of the luck of the cards (duplicate poker). The score of a deal pair is agent A's
average winnings per hand; the report gives the mean in milli-big-blinds per hand (mbb/hand) with
a 95% confidence interval from the normal approximation over deal pairs.

With 3 to 6 players, one seat of agent A plays against n-1 copies of agent B, and each deal is
played n times with the same cards per seat, A moving one seat along each time (every rotation of
A's seat). A deal's score is A's winnings averaged over its n rotations; the plays of a deal also
share their random draws, so identical agents score exactly what the table loses in total, zero.
The report gives the overall mean and one per seat position, each with its 95% interval over
deals.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from holdem_lab.errors import GameError
from holdem_lab.eval.agents import (
    AGENT_NAMES,
    Agent,
    PolicyTables,
    play_duplicate,
    play_rotations,
    policy_for,
    policy_tables,
    preflop_equities,
)
from holdem_lab.eval.interval import Interval
from holdem_lab.games.game import Game, GameArrays

Agentlike = str | np.ndarray | PolicyTables
"""A match's agent: a baseline's name, or a blueprint (an average-policy array, strategy sums
with a row per infoset, or PolicyTables: a solver's tables read in place)."""


@dataclass(frozen=True)
class MatchResult(Interval):
    """Agent A against agent B over `deal_pairs` duplicate deal pairs."""

    agent_a: str
    agent_b: str
    deal_pairs: int
    mbb_per_hand: float
    ci95_mbb: float
    chips_per_hand: float
    seed: int

    def as_dict(self) -> dict[str, Any]:
        return self._with_interval(asdict(self))

    def summary(self) -> str:
        return (f"{self.agent_a} vs {self.agent_b}: {self.mbb_per_hand:+.1f} mbb/hand "
                f"(95% CI {self.low:+.1f} .. {self.high:+.1f}, {self.deal_pairs:,} deal pairs)")


@lru_cache(maxsize=1)
def preflop_equity_table(samples: int = 4000, seed: int = 169) -> np.ndarray:
    """All-in equity of each preflop class against a random hand (fixed-seed Monte Carlo)."""
    return np.asarray(preflop_equities(samples, np.random.default_rng(seed)))


def _agent(spec: Agentlike, game: Game) -> tuple[str, int, PolicyTables]:
    if isinstance(spec, np.ndarray | PolicyTables):
        return "blueprint", int(Agent.BLUEPRINT), policy_for(game, spec)
    if spec not in AGENT_NAMES or spec == "blueprint":
        known = ", ".join(k for k in AGENT_NAMES if k != "blueprint")
        raise GameError(f"unknown agent {spec!r}; baselines: {known} (or pass a policy array)")
    return spec, int(AGENT_NAMES[spec]), policy_tables(np.zeros((1, game.max_actions)))


def play_match(game: Game, agent_a: Agentlike, agent_b: Agentlike, *,
               deal_pairs: int = 10_000, seed: int = 0, name_a: str | None = None,
               name_b: str | None = None, arrays: GameArrays | None = None) -> MatchResult:
    """Play `deal_pairs` duplicate deal pairs of heads-up Hold'em between two agents
    (`Agentlike`: a blueprint's rows are normalised as they are read). `arrays`: the game's
    `Game.arrays()`, if the caller holds them already."""
    if game.name != "holdem" or game.num_players != 2:
        raise GameError("matches are heads-up Hold'em: load_game('holdem', num_players=2, ...)")
    if deal_pairs < 2:
        raise GameError(f"deal_pairs={deal_pairs!r}: need at least 2 for a confidence interval")
    label_a, code_a, policy_a = _agent(agent_a, game)
    label_b, code_b, policy_b = _agent(agent_b, game)
    if arrays is None:
        arrays = game.arrays()
    tree = game.tree
    rng = np.random.default_rng(seed)
    scores = play_duplicate(
        arrays.player, arrays.round, arrays.num_actions, arrays.children, arrays.terminal,
        arrays.row_offset, arrays.row_stride, arrays.contrib, arrays.node_table,
        arrays.node_amounts, arrays.node_contrib, arrays.node_folded, arrays.node_row,
        tree.action_kind, tree.action_amount, arrays.holdem_bucket_tables,
        arrays.holdem_table_offsets, policy_a, policy_b, code_a, code_b,
        preflop_equity_table(), rng, deal_pairs)
    big_blind = float(game.params.get("big_blind", 1))
    mbb = scores * 1000.0 / big_blind
    half_width = 1.96 * float(np.std(mbb, ddof=1)) / math.sqrt(deal_pairs)
    return MatchResult(agent_a=name_a or label_a, agent_b=name_b or label_b,
                       deal_pairs=deal_pairs, mbb_per_hand=float(np.mean(mbb)),
                       ci95_mbb=half_width, chips_per_hand=float(np.mean(scores)), seed=seed)


POSITIONS = {
    3: ("SB", "BB", "BTN"),
    4: ("SB", "BB", "CO", "BTN"),
    5: ("SB", "BB", "HJ", "CO", "BTN"),
    6: ("SB", "BB", "UTG", "HJ", "CO", "BTN"),
}
"""Position of each seat (seat 0 is the small blind, seat n-1 the button)."""


@dataclass(frozen=True)
class SeatResult:
    """Agent A's winnings when it sits in one seat."""

    seat: int
    position: str
    mbb_per_hand: float
    ci95_mbb: float


@dataclass(frozen=True)
class MultiwayResult(Interval):
    """One seat of agent A against n-1 copies of agent B over `deals` deals, each played once
    per seat of A."""

    agent_a: str
    agent_b: str
    num_players: int
    deals: int
    mbb_per_hand: float
    ci95_mbb: float
    chips_per_hand: float
    seed: int
    seats: tuple[SeatResult, ...]

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["seats"] = [asdict(seat) for seat in self.seats]
        return self._with_interval(out)

    def summary(self) -> str:
        seats = ", ".join(f"{s.position} {s.mbb_per_hand:+.0f} ± {s.ci95_mbb:.0f}"
                          for s in self.seats)
        return (f"{self.agent_a} vs {self.num_players - 1}x {self.agent_b}: "
                f"{self.mbb_per_hand:+.1f} mbb/hand (95% CI {self.low:+.1f} .. {self.high:+.1f}, "
                f"{self.deals:,} deals x {self.num_players} seats; by seat: {seats})")


def _half_width(values: np.ndarray) -> float:
    return 1.96 * float(np.std(values, ddof=1)) / math.sqrt(values.shape[0])


def rotation_scores(game: Game, agent_a: Agentlike, agent_b: Agentlike, *,
                    deals: int, seed: int = 0, arrays: GameArrays | None = None) -> np.ndarray:
    """Agent A's winnings (chips) in every rotation of every deal, shape (deals, num_players):
    column r is the play with A in seat r and B in every other seat. `arrays`: the game's
    `Game.arrays()`, if the caller holds them already (building them walks the whole tree)."""
    if game.name != "holdem" or not 2 <= game.num_players <= 6:
        raise GameError("multiway matches are Hold'em for 2 to 6 players")
    if deals < 1:
        raise GameError(f"deals={deals!r}: need at least 1")
    _, code_a, policy_a = _agent(agent_a, game)
    _, code_b, policy_b = _agent(agent_b, game)
    if arrays is None:
        arrays = game.arrays()
    tree = game.tree
    rng = np.random.default_rng(seed)
    return np.asarray(play_rotations(
        arrays.player, arrays.round, arrays.num_actions, arrays.children, arrays.terminal,
        arrays.row_offset, arrays.row_stride, arrays.contrib, arrays.node_table,
        arrays.node_amounts, arrays.node_contrib, arrays.node_folded, arrays.node_row,
        tree.action_kind, tree.action_amount, arrays.holdem_bucket_tables,
        arrays.holdem_table_offsets, policy_a, policy_b, code_a, code_b,
        preflop_equity_table(), rng, deals, game.num_players, tree.max_depth))


def play_multiway_match(game: Game, agent_a: Agentlike, agent_b: Agentlike, *,
                        deals: int = 10_000, seed: int = 0, name_a: str | None = None,
                        name_b: str | None = None,
                        arrays: GameArrays | None = None) -> MultiwayResult:
    """Play `deals` multiway duplicate deals of Hold'em for 3 to 6 players: one seat of agent A
    (`Agentlike`) against n-1 copies of agent B, every
    deal played once with A in each seat. `arrays`: as for `rotation_scores`."""
    if game.name != "holdem" or not 3 <= game.num_players <= 6:
        raise GameError("multiway matches are Hold'em for 3 to 6 players "
                        "(heads-up: play_match)")
    if deals < 2:
        raise GameError(f"deals={deals!r}: need at least 2 for a confidence interval")
    label_a = _agent(agent_a, game)[0]
    label_b = _agent(agent_b, game)[0]
    scores = rotation_scores(game, agent_a, agent_b, deals=deals, seed=seed, arrays=arrays)
    big_blind = float(game.params.get("big_blind", 1))
    mbb = scores * 1000.0 / big_blind
    per_deal = mbb.mean(axis=1)
    positions = POSITIONS[game.num_players]
    seats = tuple(SeatResult(seat=r, position=positions[r], mbb_per_hand=float(mbb[:, r].mean()),
                             ci95_mbb=_half_width(mbb[:, r])) for r in range(game.num_players))
    return MultiwayResult(agent_a=name_a or label_a, agent_b=name_b or label_b,
                          num_players=game.num_players, deals=deals,
                          mbb_per_hand=float(per_deal.mean()), ci95_mbb=_half_width(per_deal),
                          chips_per_hand=float(scores.mean()), seed=seed, seats=seats)
