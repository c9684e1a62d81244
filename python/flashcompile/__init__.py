"""FlashCompile: an ML tensor compiler on MLIR/LLVM.

    import flashcompile as fc
    fc.matmul(a, b); fc.add(x, y); fc.relu(x); fc.conv2d(x, w, bias, stride=2)
    c = fc.lower(fc.conv2d, x, w, padding=1)   # inspect every stage
    print(c.stages); print(c.ir("linalg")); print(c.asm())
"""
from .compiled import Compiled, compile_mlir, stage_names
from .ops import add, cache_info, clear_cache, conv2d, lower, matmul, relu
from ._flashcompile import compile_cache_info, get_num_threads, set_num_threads

__all__ = [
    "Compiled", "compile_mlir", "stage_names",
    "add", "conv2d", "matmul", "relu",
    "lower", "cache_info", "clear_cache", "get_num_threads", "set_num_threads", "compile_cache_info",
]
