"""Games in the engine's one shape (see holdem_lab.games.game)."""

from __future__ import annotations

from typing import Any

from holdem_lab.config import GameSpec
from holdem_lab.errors import GameError
from holdem_lab.games.game import Game, GameArrays
from holdem_lab.games.small import kuhn, leduc

__all__ = ["Game", "GameArrays", "build_game", "load_game"]


def load_game(name: str, **params: Any) -> Game:
    """Build a game by name: "kuhn", "leduc" (suit_isomorphic=True|False) or "holdem"
    (num_players, stack, small_blind, big_blind, ante, bet_sizing, buckets)."""
    from holdem_lab.games.holdem import holdem

    builders = {"kuhn": kuhn, "leduc": leduc, "holdem": holdem}
    try:
        builder = builders[name]
    except KeyError:
        raise GameError(f"unknown game {name!r}; known games: {', '.join(builders)}") from None
    try:
        return builder(**params)
    except TypeError as exc:
        raise GameError(f"{name}: invalid parameters {params!r}: {exc}") from None


def build_game(spec: GameSpec) -> Game:
    """The game a GameSpec names (its bucket file included)."""
    params = dict(spec.game_params)
    if spec.buckets is not None:
        params["buckets"] = spec.buckets
    return load_game(spec.game, **params)
