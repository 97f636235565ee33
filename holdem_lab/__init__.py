"""holdem_lab: Monte Carlo CFR blueprints for Kuhn, Leduc and no-limit Hold'em, trained in
resumable chunks from Jupyter or the command line.

The names most sessions need are here::

    from holdem_lab import MCCFRConfig, Solver, exploitability, load_game

    game = load_game("leduc")
    solver = Solver(game, MCCFRConfig(sampling="external", seed=0))
    solver.run(100_000)
    exploitability(game, solver.average_policy())

    blueprint = load_blueprint("runs/hu")          # a trained run's newest checkpoint
    blueprint.query("AsKd", "", ["r5"])            # action probabilities facing a raise to 5
    blueprint.preflop_grid(0)                      # the 13x13 chart of the first decision
"""

from holdem_lab.config import GameSpec, MCCFRConfig, load_run_config
from holdem_lab.errors import (
    CheckpointError,
    ConfigError,
    GameError,
    HoldemLabError,
    ResumeMismatchError,
)
from holdem_lab.eval.blueprint import Blueprint, load_blueprint
from holdem_lab.eval.exact import (
    best_response_values,
    expected_values,
    exploitability,
    nash_conv,
    uniform_policy,
)
from holdem_lab.games import Game, load_game
from holdem_lab.interop.openspiel import to_openspiel
from holdem_lab.solver import Solver

__version__ = "0.1.0"

__all__ = [
    "Blueprint",
    "CheckpointError",
    "ConfigError",
    "Game",
    "GameError",
    "GameSpec",
    "HoldemLabError",
    "MCCFRConfig",
    "ResumeMismatchError",
    "Solver",
    "__version__",
    "best_response_values",
    "expected_values",
    "exploitability",
    "load_blueprint",
    "load_game",
    "load_run_config",
    "nash_conv",
    "to_openspiel",
    "uniform_policy",
]
