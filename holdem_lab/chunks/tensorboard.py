"""TensorBoard scalars as one continuous series across chunks.

Each chunk opens its own event file in `<logdir>/tensorboard` with `purge_step` set just past
the iteration it resumed from (0 on the first chunk), so readers drop any step a crashed chunk
logged after its last checkpoint, and with a zero-padded per-chunk file suffix, because event
file names only carry the second and the host, and two chunks started in the same second would
collide.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class ScalarLog:
    """Scalar writer for one chunk (a no-op when disabled)."""

    def __init__(self, directory: Path, *, purge_step: int, chunk_index: int,
                 enabled: bool = True) -> None:
        self._writer: Any = None
        if not enabled:
            return
        from tensorboardX import SummaryWriter

        directory.mkdir(parents=True, exist_ok=True)
        self._writer = SummaryWriter(logdir=str(directory), purge_step=purge_step,
                                     filename_suffix=f".chunk{chunk_index:06d}",
                                     flush_secs=30)

    def scalars(self, step: int, values: dict[str, float]) -> None:
        if self._writer is None:
            return
        for tag, value in values.items():
            self._writer.add_scalar(tag, float(value), global_step=step)

    def close(self) -> None:
        """Flush everything to disk and close the event file."""
        if self._writer is not None:
            self._writer.flush()
            self._writer.close()
            self._writer = None


def read_scalars(directory: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar series in a run's TensorBoard directory as {tag: [(step, value), ...]},
    read with TensorBoard's own event reader (purged steps are dropped as TensorBoard drops
    them)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(directory), size_guidance={"scalars": 0})
    accumulator.Reload()
    out: dict[str, list[tuple[int, float]]] = {}
    for tag in accumulator.Tags().get("scalars", []):
        out[tag] = [(event.step, event.value) for event in accumulator.Scalars(tag)]
    return out
