"""A result in mbb/hand with its 95% confidence half-width, as matches and LBR report it."""

from __future__ import annotations

from typing import Any


class Interval:
    """A result in mbb/hand with its 95% half-width: the ends of the interval, and both in a
    result's dict form."""

    mbb_per_hand: float
    ci95_mbb: float

    @property
    def low(self) -> float:
        return self.mbb_per_hand - self.ci95_mbb

    @property
    def high(self) -> float:
        return self.mbb_per_hand + self.ci95_mbb

    def _with_interval(self, out: dict[str, Any]) -> dict[str, Any]:
        out["ci95_low"] = self.low
        out["ci95_high"] = self.high
        return out
