"""Random streams for the numba kernels: one draw function for two kinds of generator.

`uniform(rng)` returns a float64 in [0, 1) from either a *counter stream*, a one-element
uint64 array holding a SplitMix64 counter (Steele, Lea & Flood 2014), or a
`numpy.random.Generator` (the sequential engine's stream in runs started before it drew from a
counter). A sharded run's counter streams are named by a key derived from (seed, batch, shard)
with `stream_key`, so any worker can start any shard's stream from three integers: no generator
state travels between workers, batches or chunks; the sequential engine's one stream is keyed by
the seed (`CounterStream`). Numba compiles the kernels that call `uniform` once per generator
type.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, types
from numba.extending import overload

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_UNIT = 1.0 / 9007199254740992.0  # 2**-53

STREAM_SCHEME = "splitmix64(key(seed, batch, shard))"
"""The name checkpoints record for the sharded engine's counter streams (part of a run's
identity)."""
SEQUENTIAL_STREAM = "splitmix64(key(seed)) (one stream)"
"""The name checkpoints record for the sequential engine's one counter stream."""
LEGACY_SEQUENTIAL_STREAM = "numpy PCG64 (one stream)"
"""The sequential engine's stream in runs started before it drew from a counter (a
`numpy.random.Generator`): such runs continue with it, bit for bit."""
_SEQUENTIAL_BATCH = 1 << 62
"""The batch coordinate of the sequential stream's key, far from any sharded batch's."""


@njit(cache=True, inline="always")
def mix64(z: np.uint64) -> np.uint64:
    """SplitMix64's output function: a bijective 64-bit mix."""
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit(cache=True)
def stream_key(seed: int, batch: int, shard: int) -> np.uint64:
    """The starting counter of shard `shard`'s stream in batch `batch` of a run seeded `seed`:
    each coordinate is folded in through a full mix, so nearby coordinates give unrelated
    streams."""
    z = mix64(np.uint64(seed) + _GOLDEN)
    z = mix64(z ^ (np.uint64(batch) + _GOLDEN))
    return mix64(z ^ (np.uint64(shard) * _GOLDEN + _MIX1))


class CounterStream:
    """The sequential engine's one random stream: a counter stream keyed by the seed alone. Its
    whole state is the counter, exchanged as `state` in the shape of a numpy bit generator's
    (`{"bit_generator": "SplitMix64", "state": {"state": counter}}`) so that checkpoints store
    either kind alike. Drawing inline costs the kernel a fraction of a `numpy.random.Generator`
    call, which numba makes through the generator's function pointers."""

    NAME = "SplitMix64"

    def __init__(self, seed: int) -> None:
        self.counter = np.array([stream_key(seed, _SEQUENTIAL_BATCH, 0)], dtype=np.uint64)

    @property
    def state(self) -> dict[str, Any]:
        return {"bit_generator": self.NAME, "state": {"state": int(self.counter[0])}}

    @state.setter
    def state(self, value: dict[str, Any]) -> None:
        if value.get("bit_generator") != self.NAME:
            raise ValueError(f"rng_state is for {value.get('bit_generator')!r}, "
                             f"expected {self.NAME!r}")
        inner = value["state"]
        if not isinstance(inner, dict) or set(inner) != {"state"}:
            raise ValueError(f"rng_state of {self.NAME} must be {{'state': counter}}, "
                             f"found {inner!r:.80}")
        counter = inner["state"]
        if isinstance(counter, bool) or not isinstance(counter, int) \
                or not 0 <= counter < 1 << 64:
            raise ValueError(f"rng_state counter {counter!r:.80} is not a 64-bit unsigned "
                             "integer")
        self.counter[0] = counter


def uniform(rng: Any) -> float:
    """A float64 in [0, 1) from `rng` (numba only; see the module docstring)."""
    raise NotImplementedError("uniform is compiled by numba; call it from a jitted function")


@overload(uniform, inline="always")
def _uniform(rng: Any) -> Any:
    if isinstance(rng, types.NumPyRandomGeneratorType):
        def draw_generator(rng: Any) -> float:
            return rng.random()
        return draw_generator
    if isinstance(rng, types.Array) and rng.dtype == types.uint64 and rng.ndim == 1:
        def draw_counter(rng: Any) -> float:
            counter = rng[0] + _GOLDEN
            rng[0] = counter
            return float(mix64(counter) >> _S11) * _UNIT
        return draw_counter
    return None


@njit(cache=True)
def counter_draws(seed: int, batch: int, shard: int, count: int) -> np.ndarray:
    """The first `count` draws of shard `shard`'s stream in batch `batch` of a run seeded
    `seed` (for tests and tools)."""
    state = np.empty(1, dtype=np.uint64)
    state[0] = stream_key(seed, batch, shard)
    out = np.empty(count)
    for i in range(count):
        out[i] = uniform(state)
    return out
