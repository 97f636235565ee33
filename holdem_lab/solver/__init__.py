"""The MCCFR engine."""

from holdem_lab.solver.solver import Solver

__all__ = ["Solver"]
