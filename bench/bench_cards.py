"""Seven-card evaluation and river indexing throughput, against phevaluator's C evaluator.

All methods run single-threaded on the same seeded random seven-card hands (``int8``):

* ours, inner njit loop: an ``@njit`` loop calling `eval7_kernel` on each hand and summing the
  values -- the way the solver uses the evaluator;
* ours, batch API: ``evaluate7(hands)`` on an ``(n, 7)`` array, with the default per-hand checks
  and with ``check=False``;
* ours, one by one: ``evaluate7(hand)`` from Python for each hand (a list of seven ints);
* phevaluator, one by one: ``phevaluator.evaluate_cards(*hand)`` from Python;
* phevaluator, extension call: its C extension function ``_pheval.evaluate_7cards(*hand)``
  from Python, which skips the card conversion of the public API;
* phevaluator, C in an njit loop: its C function ``evaluate_7cards`` (exported by the same
  shared object) called through ctypes from an ``@njit`` loop -- no Python per hand, so this is
  phevaluator's raw speed and the like-for-like reference for our inner loop;
* river index: ``index_hands(hands, RIVER)`` (batch) and `index_kernel` in an njit loop.

Everything is compiled and checked for agreement before timing. Methods are timed in
interleaved rounds (one block of about 50 ms of each per round) until each has had about
``seconds``, so background load hits all of them alike; the best block of each is reported
(hands/s), the usual estimate of undisturbed speed on a shared machine.

Run: ``python -m bench.bench_cards [--seconds 2]``.
"""

from __future__ import annotations

import argparse
import ctypes
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit

from holdem_lab.cards.deck import sample_hands
from holdem_lab.cards.evaluator import eval7_kernel, evaluate7
from holdem_lab.cards.isomorphism import RIVER, index_hands, index_kernel

TARGET_RATIO = 3.0
_BLOCK_SECONDS = 0.05  # each timed block repeats a method for about this long


@njit(cache=True)
def _ours_inner(hands: np.ndarray) -> int:
    total = 0
    for i in range(hands.shape[0]):
        c0, c1, c2, c3 = hands[i, 0], hands[i, 1], hands[i, 2], hands[i, 3]
        total += int(eval7_kernel(c0, c1, c2, c3, hands[i, 4], hands[i, 5], hands[i, 6]))
    return total


@njit(cache=True)
def _index_inner(hands: np.ndarray, layout: int) -> int:
    total = 0
    for i in range(hands.shape[0]):
        total += int(index_kernel(hands[i], layout))
    return total


def _pheval_c_loop() -> Callable[[np.ndarray], int] | None:
    """An njit loop over phevaluator's C ``evaluate_7cards``, or None if it cannot be reached."""
    try:
        from phevaluator import _pheval

        fn = ctypes.CDLL(_pheval.__file__).evaluate_7cards
    except (ImportError, OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int] * 7
    fn.restype = ctypes.c_int

    @njit  # not cached: the C function's address is baked into the code
    def loop(hands: np.ndarray) -> int:
        total = 0
        for i in range(hands.shape[0]):
            total += fn(
                hands[i, 0],
                hands[i, 1],
                hands[i, 2],
                hands[i, 3],
                hands[i, 4],
                hands[i, 5],
                hands[i, 6],
            )
        return total

    return loop


def run(
    seconds: float = 2.0, n_hands: int = 200_000, n_python: int = 20_000, seed: int = 0
) -> dict[str, Any]:
    """Measure every method for about ``seconds`` each; return hands/s per method and ratios.

    ``n_hands`` hands are evaluated per repetition by the compiled methods, the first
    ``n_python`` of them by the one-by-one Python methods.
    """
    hands = sample_hands(np.random.default_rng(seed), n_hands, 7)
    rows = hands[:n_python].tolist()
    ours = np.asarray(evaluate7(hands), dtype=np.int64)

    methods: dict[str, tuple[Callable[[], object], int]] = {
        "ours_inner_njit": (lambda: _ours_inner(hands), n_hands),
        "ours_batch": (lambda: evaluate7(hands), n_hands),
        "ours_batch_unchecked": (lambda: evaluate7(hands, check=False), n_hands),
        "ours_one_by_one": (lambda: [evaluate7(r) for r in rows], n_python),
        "index_river_batch": (lambda: index_hands(hands, RIVER), n_hands),
        "index_river_inner_njit": (lambda: _index_inner(hands, RIVER), n_hands),
    }
    try:
        import phevaluator
        from phevaluator import _pheval
    except ImportError:
        phevaluator = None
    if phevaluator is not None:
        evaluate_cards = phevaluator.evaluate_cards
        ext = _pheval.evaluate_7cards
        theirs = np.array([ext(*r) for r in hands.tolist()], dtype=np.int64)
        if not np.array_equal(ours, 7463 - theirs):
            raise RuntimeError("evaluators disagree")
        methods["pheval_evaluate_cards"] = (lambda: [evaluate_cards(*r) for r in rows], n_python)
        methods["pheval_extension_call"] = (lambda: [ext(*r) for r in rows], n_python)
        c_loop = _pheval_c_loop()
        if c_loop is not None:
            if c_loop(hands) != int(np.sum(7463 - ours)):
                raise RuntimeError("phevaluator's C loop disagrees")
            methods["pheval_c_njit_loop"] = (lambda: c_loop(hands), n_hands)

    if _ours_inner(hands) != int(ours.sum()):
        raise RuntimeError("inner loop disagrees with the batch API")
    reps = {}
    for name, (fn, _) in methods.items():  # compile, warm up, and size one timed block
        fn()
        t0 = time.perf_counter()
        fn()
        reps[name] = max(1, int(_BLOCK_SECONDS / max(time.perf_counter() - t0, 1e-9)))

    best = dict.fromkeys(methods, 0.0)
    spent = dict.fromkeys(methods, 0.0)
    while min(spent.values()) < seconds:
        for name, (fn, count) in methods.items():
            t0 = time.perf_counter()
            for _ in range(reps[name]):
                fn()
            dt = time.perf_counter() - t0
            spent[name] += dt
            best[name] = max(best[name], reps[name] * count / dt)

    result: dict[str, Any] = dict(best)
    result["hands"] = n_hands
    reference = best.get("pheval_c_njit_loop")
    if reference:
        result["pheval_fastest_path"] = "C evaluate_7cards via ctypes in an njit loop"
        result["ratio_inner_vs_pheval_c"] = best["ours_inner_njit"] / reference
        result["ratio_batch_vs_pheval_c"] = best["ours_batch"] / reference
        result["ratio_batch_unchecked_vs_pheval_c"] = best["ours_batch_unchecked"] / reference
    if "pheval_evaluate_cards" in best:
        result["ratio_one_by_one"] = best["ours_one_by_one"] / best["pheval_evaluate_cards"]
    return result


def format_table(result: dict[str, Any]) -> str:
    labels = [
        ("ours_inner_njit", "ours: eval7_kernel in an njit loop"),
        ("ours_batch", "ours: evaluate7(batch), checked"),
        ("ours_batch_unchecked", "ours: evaluate7(batch, check=False)"),
        ("ours_one_by_one", "ours: evaluate7(hand) from Python"),
        ("pheval_c_njit_loop", "phevaluator: C evaluate_7cards in an njit loop"),
        ("pheval_extension_call", "phevaluator: _pheval.evaluate_7cards from Python"),
        ("pheval_evaluate_cards", "phevaluator: evaluate_cards from Python"),
        ("index_river_batch", "river index: index_hands(batch)"),
        ("index_river_inner_njit", "river index: index_kernel in an njit loop"),
    ]
    lines = [f"{'method':<50} {'hands/s':>14}", "-" * 65]
    for key, label in labels:
        if key in result:
            lines.append(f"{label:<50} {result[key]:>14,.0f}")
    lines.append("-" * 65)
    for key, label in [
        ("ratio_inner_vs_pheval_c", "ratio: inner loop / phevaluator C"),
        ("ratio_batch_vs_pheval_c", "ratio: batch (checked) / phevaluator C"),
        ("ratio_batch_unchecked_vs_pheval_c", "ratio: batch (unchecked) / phevaluator C"),
        ("ratio_one_by_one", "ratio: one by one / evaluate_cards"),
    ]:
        if key in result:
            lines.append(f"{label:<50} {result[key]:>14.2f}")
    if "ratio_inner_vs_pheval_c" in result:
        ok = result["ratio_inner_vs_pheval_c"] >= TARGET_RATIO
        lines.append(
            f"target: inner loop >= {TARGET_RATIO:.0f}x phevaluator C: {'met' if ok else 'NOT met'}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per method")
    parser.add_argument("--hands", type=int, default=200_000, help="hands per repetition")
    args = parser.parse_args(argv)
    print(format_table(run(seconds=args.seconds, n_hands=args.hands)))


if __name__ == "__main__":
    main()
