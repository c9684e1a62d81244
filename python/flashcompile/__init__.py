"""FlashCompile: an ML tensor compiler on MLIR/LLVM.

    import flashcompile as fc
    fc.matmul(a, b); fc.add(x, y); fc.relu(x); fc.conv2d(x, w, bias, stride=2)
    c = fc.lower(fc.conv2d, x, w, padding=1)   # inspect every stage
    print(c.stages); print(c.ir("linalg")); print(c.asm())

    @fc.jit                                     # trace a whole function
    def block(x):
        return fc.softmax(fc.relu(x @ w1 + b1) @ w2, axis=-1)

    model = fc.Sequential([fc.Linear(784, 128), fc.ReLU(), fc.Linear(128, 10)])
    compiled = fc.compile(model, x)            # one optimized graph
"""
from . import logs as _logs
from . import tuned as _tuned
from ._version import __version__
from .logs import set_log_level
from ._flashcompile import (clear_compile_cache, compile_cache_info, get_num_threads,
                           set_num_threads)
from .analysis import analyze
from .compiled import Compiled, compile_mlir, stage_names, targets
from . import gpu
from .eager import cache_info, clear_cache, lower
from .jit import CompiledGraph, JitFunction, compile, jit
from .check import check_devices
from .nn import (AvgPool2d, BatchNorm2d, Conv2d, Flatten, GELU, LayerNorm, Linear, MatMul,
                 MaxPool2d, Module, MultiHeadAttention, ReLU, Sequential, Sigmoid, Softmax,
                 Tanh, TransformerEncoderLayer)
from .ops import (add, attention, avg_pool2d, batch_matmul, batch_norm, bias_add, cast, clip,
                  concat, conv2d, div, embedding, equal, erf, exp, flatten, gather, gelu,
                  greater, greater_equal, hardsigmoid, hardswish, layer_norm, less, less_equal,
                  not_equal, where,
                  linear, matmul, max_pool2d, maximum, minimum, mul, neg, pad, pow, reduce_max,
                  reduce_mean, reduce_sum, relu, reshape, scaled_dot_product_attention, sigmoid,
                  silu, slice, softmax, split, sqrt, sub, tanh, transpose)
from .tracing import Tracer
from .importers.onnx import UnsupportedOnnx, from_onnx, onnx_support
from .importers.onnx_export import export_onnx
from .importers.stablehlo_export import export_stablehlo
from .importers.pytorch import UnsupportedTorch, from_pytorch, pytorch_support
from .tuning import TuningDatabase, tune
from .tuning.database import default_database as _default_database
from .sim import (Link, cost_analysis, compare_devices, devices, plot_comparison, plot_roofline,
                  simulate)
from .multidevice import pipeline, place

# Compiles read the tuning database in the cache folder, if there is one
# (the core reads tuned parameters only through flashcompile.tuned).
_tuned.set_default(_default_database)
# FLASH_LOGS=timing,passes,cache (flashcompile.logs).
_logs.configure_from_environment()

__all__ = [
    "Compiled", "CompiledGraph", "JitFunction", "Tracer", "compile_mlir", "stage_names",
    "targets", "gpu", "check_devices",
    "jit", "compile", "analyze", "tune", "TuningDatabase",
    # ops
    "add", "sub", "mul", "div", "pow", "maximum", "minimum", "neg", "relu", "exp", "tanh",
    "sigmoid", "gelu", "erf", "sqrt", "clip", "hardsigmoid", "hardswish", "silu", "bias_add",
    "matmul", "batch_matmul", "linear", "conv2d", "transpose", "reshape", "flatten", "concat",
    "pad", "slice", "split", "gather", "embedding", "cast", "equal", "not_equal", "less",
    "less_equal", "greater", "greater_equal", "where", "reduce_sum", "reduce_mean", "reduce_max",
    "softmax", "layer_norm", "batch_norm", "max_pool2d", "avg_pool2d", "attention",
    "scaled_dot_product_attention",
    # layers
    "Module", "Linear", "MatMul", "Conv2d", "BatchNorm2d", "LayerNorm", "ReLU", "GELU",
    "Sigmoid", "Tanh", "Softmax", "Flatten", "MaxPool2d", "AvgPool2d", "Sequential",
    "MultiHeadAttention", "TransformerEncoderLayer",
    # importers
    "from_onnx", "onnx_support", "UnsupportedOnnx", "export_onnx", "export_stablehlo",
    "from_pytorch",
    "pytorch_support", "UnsupportedTorch",
    # simulator
    "devices", "simulate", "cost_analysis", "compare_devices", "plot_comparison", "plot_roofline",
    "place", "Link", "pipeline",
    # caches and threads
    "lower", "cache_info", "clear_cache", "get_num_threads", "set_num_threads",
    "compile_cache_info", "clear_compile_cache",
    # version and logging
    "__version__", "set_log_level",
]
