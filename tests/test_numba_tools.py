"""The kernels' numba intrinsics change no value: a borrowed view is the array itself (same
memory, shape and strides), and a prefetch is only a hint."""

from __future__ import annotations

import numpy as np
from numba import njit

from holdem_lab.games.numba_tools import borrowed, prefetch


@njit
def _write_through_view(array, value):
    view = borrowed(array)
    view[1, 2] = value
    total = 0.0
    for i in range(view.shape[0]):
        for j in range(view.shape[1]):
            total += view[i, j]
    return total, view.shape[0], view.shape[1], view.strides[0], view.strides[1]


@njit
def _sum_with_prefetch(array):
    total = 0
    for i in range(array.shape[0]):
        prefetch(array, (i + 8) % array.shape[0])
        total += array[i]
    return total


def test_a_borrowed_view_is_the_array_itself() -> None:
    array = np.arange(20.0).reshape(4, 5)
    total, rows, cols, stride0, stride1 = _write_through_view(array, 100.0)
    assert array[1, 2] == 100.0
    assert total == array.sum()
    assert (rows, cols, stride0, stride1) == (*array.shape, *array.strides)
    columns = np.arange(30.0).reshape(5, 6)[:, 1:4]  # strided, as GameArrays.node_contrib
    total, rows, cols, stride0, stride1 = _write_through_view(columns, -1.0)
    assert columns[1, 2] == -1.0
    assert total == columns.sum()
    assert (rows, cols, stride0, stride1) == (*columns.shape, *columns.strides)


def test_prefetch_changes_nothing() -> None:
    array = np.arange(1000, dtype=np.int64)
    assert _sum_with_prefetch(array) == array.sum()
    assert np.array_equal(array, np.arange(1000))
