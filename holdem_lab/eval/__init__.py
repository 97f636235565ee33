"""Evaluation: exact best response and exploitability for small games."""

from holdem_lab.eval.exact import (
    best_response_values,
    expected_values,
    exploitability,
    nash_conv,
)

__all__ = ["best_response_values", "exploitability", "expected_values", "nash_conv"]
