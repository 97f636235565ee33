"""Deterministic k-means for card abstraction.

Two clusterers:

* `kmeans_fit` / `kmeans_assign`: Lloyd's algorithm with k-means++ seeding (Arthur &
  Vassilvitskii, "k-means++: the advantages of careful seeding", SODA 2007) on a seeded sample of
  the points, then every point assigned to its nearest centroid. Points are rows of small
  integers (cumulative histogram counts), distances Euclidean, accumulated in float64. The
  Lloyd iterations use Hamerly's bounds ("Making k-means even faster", SDM 2010): an upper
  bound on each point's distance to its centroid and a lower bound on the distance to every
  other centroid let most points skip the scan of the centroids once the clustering settles;
  the assignment they give is the one a full scan gives (up to float rounding in exact ties).
* `optimal_1d`: globally optimal weighted k-means of points on a line (Wang & Song,
  "Ckmeans.1d.dp: optimal k-means clustering in one dimension by dynamic programming", The R
  Journal 3(2), 2011), whose clusters are intervals, so cluster ids can be numbered in increasing
  order of the coordinate. The dynamic program uses the divide-and-conquer speed-up: the optimal
  start of the last cluster never decreases as more points are covered.

Determinism: the only randomness is the ``numpy.random.Generator`` passed in; every reduction
(centroid sums, seeding weights) runs sequentially in a fixed order; the parallel kernels only
compute per-point results into per-point slots (nearest centroid, distance), so the thread
count and scheduling cannot change a bit of the output. Ties go to the lowest centroid index.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from numba import njit, prange

__all__ = ["kmeans_assign", "kmeans_fit", "optimal_1d"]

ProgressFn = Callable[[int], object]


@njit(cache=True, inline="always")
def _dist2(data: np.ndarray, i: int, centroids: np.ndarray, c: int) -> float:
    s = 0.0
    for j in range(data.shape[1]):
        diff = np.float64(data[i, j]) - centroids[c, j]
        s += diff * diff
    return s


@njit(cache=True, parallel=True)
def _full_scan_kernel(
    data: np.ndarray, centroids: np.ndarray, labels: np.ndarray, upper: np.ndarray,
    lower: np.ndarray,
) -> None:
    """Nearest and second-nearest centroid distance of every point (Hamerly's initial state)."""
    k = centroids.shape[0]
    for i in prange(data.shape[0]):
        best = 0
        d1 = np.inf
        d2 = np.inf
        for c in range(k):
            d = _dist2(data, i, centroids, c)
            if d < d1:
                d2 = d1
                d1 = d
                best = c
            elif d < d2:
                d2 = d
        labels[i] = best
        upper[i] = np.sqrt(d1)
        lower[i] = np.sqrt(d2)


@njit(cache=True, parallel=True)
def _hamerly_kernel(
    data: np.ndarray, centroids: np.ndarray, half_gap: np.ndarray, labels: np.ndarray,
    upper: np.ndarray, lower: np.ndarray, changed: np.ndarray,
) -> None:
    """One assignment step of Hamerly's algorithm: a point keeps its centroid when its upper
    bound is below both its lower bound and half the gap to the nearest other centroid."""
    k = centroids.shape[0]
    for i in prange(data.shape[0]):
        a = labels[i]
        bound = max(half_gap[a], lower[i])
        changed[i] = 0
        if upper[i] <= bound:
            continue
        upper[i] = np.sqrt(_dist2(data, i, centroids, a))
        if upper[i] <= bound:
            continue
        best = 0
        d1 = np.inf
        d2 = np.inf
        for c in range(k):
            d = _dist2(data, i, centroids, c)
            if d < d1:
                d2 = d1
                d1 = d
                best = c
            elif d < d2:
                d2 = d
        if best != a:
            changed[i] = 1
        labels[i] = best
        upper[i] = np.sqrt(d1)
        lower[i] = np.sqrt(d2)


@njit(cache=True)
def _move_centroids(
    data: np.ndarray, labels: np.ndarray, upper: np.ndarray, centroids: np.ndarray,
    move: np.ndarray,
) -> None:
    """Centroids to the means of their points (sequential sums, fixed order); an empty cluster
    jumps to the point with the largest upper bound. ``move[c]``: how far centroid c moved."""
    k, d = centroids.shape
    sums = np.zeros((k, d), dtype=np.float64)
    counts = np.zeros(k, dtype=np.int64)
    for i in range(data.shape[0]):
        c = labels[i]
        counts[c] += 1
        for j in range(d):
            sums[c, j] += data[i, j]
    old = centroids.copy()
    taken = np.zeros(data.shape[0], dtype=np.bool_)
    for c in range(k):
        if counts[c] > 0:
            for j in range(d):
                centroids[c, j] = sums[c, j] / counts[c]
        else:
            far = -1
            for i in range(data.shape[0]):
                if not taken[i] and (far < 0 or upper[i] > upper[far]):
                    far = i
            if far >= 0 and upper[far] > 0.0:
                taken[far] = True
                for j in range(d):
                    centroids[c, j] = data[far, j]
    for c in range(k):
        s = 0.0
        for j in range(d):
            diff = centroids[c, j] - old[c, j]
            s += diff * diff
        move[c] = np.sqrt(s)


@njit(cache=True)
def _half_gaps(centroids: np.ndarray, out: np.ndarray) -> None:
    """Half the distance from each centroid to its nearest other centroid."""
    k = centroids.shape[0]
    for c in range(k):
        best = np.inf
        for e in range(k):
            if e != c:
                s = 0.0
                for j in range(centroids.shape[1]):
                    diff = centroids[c, j] - centroids[e, j]
                    s += diff * diff
                if s < best:
                    best = s
        out[c] = 0.5 * np.sqrt(best) if best < np.inf else 0.0


@njit(cache=True, parallel=True)
def _shift_bounds(labels: np.ndarray, upper: np.ndarray, lower: np.ndarray,
                  move: np.ndarray) -> None:
    """Keep the bounds valid after the centroids moved: the upper bound grows by the move of
    the point's centroid, the lower bound shrinks by the largest move of any other centroid."""
    k = move.shape[0]
    top = 0
    for c in range(1, k):
        if move[c] > move[top]:
            top = c
    second = 0.0
    for c in range(k):
        if c != top and move[c] > second:
            second = move[c]
    for i in prange(labels.shape[0]):
        a = labels[i]
        upper[i] += move[a]
        lower[i] -= second if a == top else move[top]


@njit(cache=True, parallel=True)
def _min_dist_kernel(data: np.ndarray, center: np.ndarray, mind: np.ndarray) -> None:
    d = data.shape[1]
    for i in prange(data.shape[0]):
        s = 0.0
        for j in range(d):
            diff = np.float64(data[i, j]) - center[j]
            s += diff * diff
        if s < mind[i]:
            mind[i] = s


@njit(cache=True)
def _pick_weighted(weights: np.ndarray, u: float) -> int:
    """First index whose running sum of ``weights`` exceeds ``u * total`` (sequential sum)."""
    total = 0.0
    for i in range(weights.shape[0]):
        total += weights[i]
    target = u * total
    run = 0.0
    last = -1
    for i in range(weights.shape[0]):
        if weights[i] > 0.0:
            last = i
            run += weights[i]
            if run > target:
                return i
    return last  # rounding at the very end, or all weights zero (-1)


def kmeans_fit(
    sample: npt.NDArray[np.integer],
    k: int,
    rng: np.random.Generator,
    max_iterations: int,
    progress: ProgressFn | None = None,
) -> tuple[npt.NDArray[np.float64], int]:
    """Centroids (``(k, d)`` float64) of ``sample`` (``(m, d)`` integers), and the number of
    Lloyd iterations run.

    k-means++ seeding draws from ``rng``; Lloyd's iterations stop when no point changes cluster
    or after ``max_iterations``. ``progress(n)`` is called after each seeding step and each
    iteration.
    """
    m, d = sample.shape
    if not 1 <= k <= m:
        raise ValueError(f"k={k}: needs 1 <= k <= number of sample points ({m})")
    centroids = np.empty((k, d), dtype=np.float64)
    first = int(rng.integers(m))
    centroids[0] = sample[first]
    mind = np.full(m, np.inf)
    _min_dist_kernel(sample, centroids[0], mind)
    for c in range(1, k):
        pick = _pick_weighted(mind, float(rng.random()))
        if pick < 0:  # every point coincides with a chosen centroid
            pick = int(rng.integers(m))
        centroids[c] = sample[pick]
        _min_dist_kernel(sample, centroids[c], mind)
        if progress is not None:
            progress(1)
    labels = np.zeros(m, dtype=np.int32)
    upper = np.empty(m, dtype=np.float64)
    lower = np.empty(m, dtype=np.float64)
    changed = np.zeros(m, dtype=np.uint8)
    half_gap = np.zeros(k, dtype=np.float64)
    move = np.zeros(k, dtype=np.float64)
    _full_scan_kernel(sample, centroids, labels, upper, lower)
    iterations = 1
    if progress is not None:
        progress(1)
    while iterations < max_iterations:
        _move_centroids(sample, labels, upper, centroids, move)
        _shift_bounds(labels, upper, lower, move)
        if k <= 4096:  # k^2 centroid pairs: past that the lower bounds alone prune
            _half_gaps(centroids, half_gap)
        _hamerly_kernel(sample, centroids, half_gap, labels, upper, lower, changed)
        iterations += 1
        if progress is not None:
            progress(1)
        if not changed.any():
            break
    return centroids, iterations


@njit(cache=True, parallel=True)
def _assign_kernel(
    data: np.ndarray, centroids: np.ndarray, order: np.ndarray, proj: np.ndarray, start: int,
    labels: np.ndarray,
) -> None:
    """Nearest centroid of rows ``start..start+len(labels)-1`` (lowest index on ties).

    Centroids are visited in order of their distance along the diagonal direction (``proj`` is
    ``sum(centroid) / sqrt(d)``, sorted, ``order`` their ids), nearest first, stopping when that
    gap alone exceeds the best distance: by Cauchy-Schwarz ``|x - c|^2 >= (proj(x) -
    proj(c))^2``, so the result equals a full scan. For cumulative histograms the diagonal is
    the mean-strength direction, where most of the spread lies.
    """
    k = centroids.shape[0]
    d = data.shape[1]
    scale = 1.0 / np.sqrt(d)
    for r in prange(labels.shape[0]):
        i = start + r
        px = 0.0
        for j in range(d):
            px += np.float64(data[i, j])
        px *= scale
        lo = np.searchsorted(proj, px) - 1
        hi = lo + 1
        best = -1
        best_d = np.inf
        while lo >= 0 or hi < k:
            if hi < k and (lo < 0 or proj[hi] - px <= px - proj[lo]):
                t = hi
                hi += 1
            else:
                t = lo
                lo -= 1
            gap = proj[t] - px
            if gap * gap > best_d * (1.0 + 1e-9) + 1e-9:
                break  # the nearest remaining gap is too wide, so are all the others
            c = order[t]
            s = 0.0
            for j in range(d):
                diff = np.float64(data[i, j]) - centroids[c, j]
                s += diff * diff
                if s > best_d:
                    break
            if s < best_d or (s == best_d and c < best):
                best_d = s
                best = c
        labels[r] = best


def kmeans_assign(
    data: npt.NDArray[np.integer],
    centroids: npt.NDArray[np.float64],
    chunk: int = 1 << 20,
    progress: ProgressFn | None = None,
) -> npt.NDArray[np.int32]:
    """Nearest centroid (lowest index on ties) of every row of ``data``, in parallel chunks;
    equal to a full scan of the centroids, with most of them skipped (see `_assign_kernel`)."""
    n, d = data.shape
    proj = centroids.sum(axis=1) / np.sqrt(d)
    order = np.argsort(proj, kind="stable")
    proj = np.ascontiguousarray(proj[order])
    labels = np.empty(n, dtype=np.int32)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        _assign_kernel(data, centroids, order, proj, start, labels[start:stop])
        if progress is not None:
            progress(stop - start)
    return labels


# --------------------------------------------------------------------------------------------
# One dimension
# --------------------------------------------------------------------------------------------


@njit(cache=True, inline="always")
def _cost(pw: np.ndarray, p1: np.ndarray, p2: np.ndarray, i: int, j: int) -> float:
    """Weighted sum of squared deviations of points i..j-1 from their mean (exact integer sums,
    one float division)."""
    w = pw[j] - pw[i]
    if w == 0:
        return 0.0
    s1 = np.float64(p1[j] - p1[i])
    return np.float64(p2[j] - p2[i]) - s1 * s1 / np.float64(w)


@njit(cache=True)
def _optimal_1d_kernel(x: np.ndarray, w: np.ndarray, k: int) -> np.ndarray:
    m = x.shape[0]
    pw = np.zeros(m + 1, dtype=np.int64)
    p1 = np.zeros(m + 1, dtype=np.int64)
    p2 = np.zeros(m + 1, dtype=np.int64)
    for i in range(m):
        pw[i + 1] = pw[i] + w[i]
        p1[i + 1] = p1[i] + w[i] * x[i]
        p2[i + 1] = p2[i] + w[i] * x[i] * x[i]
    prev = np.full(m + 1, np.inf)
    cur = np.full(m + 1, np.inf)
    split = np.zeros((k, m + 1), dtype=np.int64)  # start of the last cluster
    for j in range(1, m + 1):
        prev[j] = _cost(pw, p1, p2, 0, j)
    # q clusters over the first j points: cur[j] = min_i prev[i] + cost(i, j), q - 1 <= i < j;
    # the best i is non-decreasing in j, so split the j range and narrow the i range (explicit
    # stack instead of recursion)
    stack = np.empty((64 + 2 * m, 4), dtype=np.int64)
    for q in range(1, k):
        cur[:] = np.inf
        top = 0
        stack[0, 0] = q + 1
        stack[0, 1] = m
        stack[0, 2] = q
        stack[0, 3] = m - 1
        top = 1
        while top > 0:
            top -= 1
            lo = stack[top, 0]
            hi = stack[top, 1]
            ilo = stack[top, 2]
            ihi = stack[top, 3]
            if lo > hi:
                continue
            mid = (lo + hi) // 2
            best = np.inf
            best_i = ilo
            for i in range(ilo, min(ihi, mid - 1) + 1):
                v = prev[i] + _cost(pw, p1, p2, i, mid)
                if v < best:
                    best = v
                    best_i = i
            cur[mid] = best
            split[q, mid] = best_i
            stack[top, 0] = lo
            stack[top, 1] = mid - 1
            stack[top, 2] = ilo
            stack[top, 3] = best_i
            top += 1
            stack[top, 0] = mid + 1
            stack[top, 1] = hi
            stack[top, 2] = best_i
            stack[top, 3] = ihi
            top += 1
        prev, cur = cur, prev
    starts = np.zeros(k, dtype=np.int64)
    j = m
    for q in range(k - 1, 0, -1):
        starts[q] = split[q, j]
        j = starts[q]
    return starts


def optimal_1d(
    values: npt.NDArray[np.integer], weights: npt.NDArray[np.integer], k: int
) -> npt.NDArray[np.int64]:
    """Optimal weighted 1-D k-means of sorted distinct integer ``values``: returns the index of
    the first value of each of the ``k`` clusters (``starts[0] == 0``, increasing), so value
    ``i`` is in cluster ``searchsorted(starts, i, "right") - 1``. Needs ``k <= len(values)``
    and positive weights."""
    x = np.ascontiguousarray(values, dtype=np.int64)
    w = np.ascontiguousarray(weights, dtype=np.int64)
    if x.ndim != 1 or x.shape != w.shape:
        raise ValueError("values and weights must be 1-D arrays of one length")
    if not 1 <= k <= x.size:
        raise ValueError(f"k={k}: needs 1 <= k <= number of distinct values ({x.size})")
    if x.size > 1 and np.any(np.diff(x) <= 0):
        raise ValueError("values must be sorted and distinct")
    if np.any(w <= 0):
        raise ValueError("weights must be positive")
    return _optimal_1d_kernel(x, w, k)
