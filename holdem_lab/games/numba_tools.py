"""Two numba intrinsics the compiled kernels use for speed; neither changes a value."""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.arrayobj import populate_array


@intrinsic
def prefetch(typingctx: Any, array: Any, flat_index: Any) -> Any:
    """Hint the CPU to start loading the cache line of element `flat_index` of a C-contiguous
    array (any dimension, counted in row-major order), so that cache misses known in advance
    overlap with other work."""
    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        view = context.make_array(signature.args[0])(context, builder, args[0])
        pointer = builder.gep(view.data, [args[1]])
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]),
            "llvm.prefetch.p0")
        # read/write = 1 (the rows are updated), locality = 3 (keep in all levels), data cache
        builder.call(function, [builder.bitcast(pointer, byte_pointer), i32(1), i32(3), i32(1)])
        return context.get_dummy_value()
    return types.void(array, flat_index), codegen


@intrinsic
def borrowed(typingctx: Any, array: Any) -> Any:
    """A view of `array` that holds no reference to its memory. Numba updates an array's
    (atomic) reference count whenever the array is passed to a function, inlined or not; a
    borrowed view has none to update, so a hot loop can call shared inlined functions for free.
    The view is valid only while `array` itself is kept alive by its owner."""
    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        source = context.make_array(signature.args[0])(context, builder, args[0])
        view = context.make_array(signature.return_type)(context, builder)
        populate_array(view, data=source.data, shape=source.shape, strides=source.strides,
                       itemsize=source.itemsize, meminfo=None)
        return view._getvalue()
    return array(array), codegen
