"""What one chunk will do, decided before it trains: its limits, and when the run is complete.

A :class:`ChunkPlan` is a pure value computed from the config and the point the chunk resumes
from. The chunk runner asks it when to stop and why, the notebook driver asks it whether a run
is already complete, and the chunk notebook shows its description, so the three can never
disagree about a limit or its wording.
"""

from __future__ import annotations

from dataclasses import dataclass

from holdem_lab.config import MCCFRConfig


@dataclass(frozen=True)
class ChunkPlan:
    """The limits of one chunk that starts at ``start_iteration`` after ``previous_elapsed``
    seconds of training in earlier chunks.

    Totals (``num_iterations``, ``time_budget_seconds``) end the run; chunk limits
    (``chunk_iterations``, ``chunk_minutes``, None unless chunked training is on) end the
    chunk. Whichever is reached first wins."""

    start_iteration: int
    previous_elapsed: float
    num_iterations: int | None
    time_budget_seconds: float | None
    chunk_iterations: int | None
    chunk_minutes: float | None

    @classmethod
    def for_chunk(cls, config: MCCFRConfig, start_iteration: int = 0,
                  previous_elapsed: float = 0.0) -> ChunkPlan:
        chunked = config.enable_chunked_training
        return cls(
            start_iteration=start_iteration, previous_elapsed=previous_elapsed,
            num_iterations=config.num_iterations,
            time_budget_seconds=config.time_budget_seconds,
            chunk_iterations=config.chunk_size_iterations if chunked else None,
            chunk_minutes=config.chunk_size_minutes if chunked else None)

    @property
    def chunk_seconds(self) -> float | None:
        """The chunk's time limit in seconds."""
        return self.chunk_minutes * 60.0 if self.chunk_minutes else None

    @property
    def chunk_end(self) -> int | None:
        """The iteration at which the chunk's iteration limit stops it."""
        if self.chunk_iterations is None:
            return None
        return self.start_iteration + self.chunk_iterations

    @property
    def iteration_end(self) -> int | None:
        """The last iteration this chunk may reach: the chunk's end or the total, if any."""
        ends = [end for end in (self.num_iterations, self.chunk_end) if end is not None]
        return min(ends) if ends else None

    @property
    def seconds_end(self) -> float | None:
        """The chunk's own seconds after which a time limit stops it: the chunk's limit or what
        is left of the time budget, whichever is less (None without either)."""
        left = None if self.time_budget_seconds is None else \
            max(self.time_budget_seconds - self.previous_elapsed, 0.0)
        ends = [end for end in (self.chunk_seconds, left) if end is not None]
        return min(ends) if ends else None

    def why_complete(self, iteration: int, elapsed: float) -> str | None:
        """Why the run is complete at ``iteration`` after ``elapsed`` seconds in all, or None."""
        if self.num_iterations is not None and iteration >= self.num_iterations:
            return f"Total iteration limit reached: {iteration} >= {self.num_iterations}"
        if self.time_budget_seconds is not None and elapsed >= self.time_budget_seconds:
            return f"Time budget reached: {elapsed:.1f} s >= {self.time_budget_seconds:g} s"
        return None

    def why_complete_at_start(self) -> str | None:
        """Why there is nothing left to train before the chunk starts, or None."""
        return self.why_complete(self.start_iteration, self.previous_elapsed)

    def why_chunk_ends(self, iteration: int, chunk_seconds: float) -> str | None:
        """Why the chunk ends at ``iteration`` after ``chunk_seconds`` of its own, or None
        (the totals are :meth:`why_complete`'s)."""
        end = self.chunk_end
        if end is not None and iteration >= end:
            return f"Chunk iteration limit reached: {iteration} >= {end}"
        limit = self.chunk_seconds
        if limit is not None and chunk_seconds >= limit:
            return f"Chunk time limit reached: {chunk_seconds:.1f} s >= {limit:g} s"
        return None

    def chunk_limits(self) -> str | None:
        """The chunk's limits in words (``1,000 iterations or 5 minutes``), None if unchunked."""
        limits = []
        if self.chunk_iterations is not None:
            limits.append(f"{self.chunk_iterations:,} iterations")
        if self.chunk_minutes is not None:
            limits.append(f"{self.chunk_minutes:g} minutes")
        return " or ".join(limits) or None

    def totals(self) -> str | None:
        """The run's totals in words (``3,000 iterations or 600 s``), None if there are none."""
        totals = []
        if self.num_iterations is not None:
            totals.append(f"{self.num_iterations:,} iterations")
        if self.time_budget_seconds is not None:
            totals.append(f"{self.time_budget_seconds:g} s")
        return " or ".join(totals) or None

    def describe(self) -> list[str]:
        """The lines that say how long this chunk and the run will be."""
        return [f"total: {self.totals() or 'none'}",
                f"chunk: {self.chunk_limits() or 'the whole run (chunking disabled)'}"]
