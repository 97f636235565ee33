"""TensorBoard scalars as one continuous series across chunks.

Each chunk opens its own event file in `<logdir>/tensorboard` with `purge_step` set just past
the iteration it resumed from (0 on the first chunk), so readers drop any step a crashed chunk
logged after its last checkpoint, and with a zero-padded per-chunk file suffix, because event
file names only carry the second and the host, and two chunks started in the same second would
collide.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any


class ScalarLog:
    """Scalar writer for one chunk (a no-op when disabled).

    Events are written synchronously with tensorboardX's `EventsWriter` rather than through
    `SummaryWriter`, whose background queue is not drained by `flush()`: a chunk killed after a
    checkpoint could otherwise lose scalars logged before that checkpoint, and the next chunk's
    purge would never bring them back."""

    def __init__(self, directory: Path, *, purge_step: int, chunk_index: int,
                 enabled: bool = True) -> None:
        self._writer: Any = None
        if not enabled:
            return
        from tensorboardX.event_file_writer import EventsWriter
        from tensorboardX.proto.event_pb2 import Event, SessionLog

        directory.mkdir(parents=True, exist_ok=True)
        self._writer = EventsWriter(str(directory / "events"),
                                    filename_suffix=f".chunk{chunk_index:06d}")
        # A session start at `purge_step` tells readers to drop any step >= purge_step logged
        # earlier (by a chunk that died after its last checkpoint).
        self._writer.write_event(Event(wall_time=time.time(), step=purge_step,
                                       session_log=SessionLog(status=SessionLog.START)))

    @property
    def enabled(self) -> bool:
        """False when TensorBoard logging is off (values need not be computed at all)."""
        return self._writer is not None

    def scalars(self, step: int, values: dict[str, float]) -> None:
        if self._writer is None or not values:
            return
        from tensorboardX.proto.event_pb2 import Event
        from tensorboardX.proto.summary_pb2 import Summary

        summary = Summary(value=[Summary.Value(tag=tag, simple_value=float(value))
                                 for tag, value in values.items()])
        self._writer.write_event(Event(wall_time=time.time(), step=step, summary=summary))

    def flush(self) -> None:
        """Write every logged scalar to the event file (before a checkpoint, so that a run
        killed afterwards never has a checkpoint newer than its TensorBoard series)."""
        if self._writer is not None:
            self._writer.flush()

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
