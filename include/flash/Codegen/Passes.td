//===- Passes.td - Flash loop-level (codegen) passes -------*- tablegen -*-===//
#ifndef FLASH_CODEGEN_PASSES_TD
#define FLASH_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def DistinctInits : Pass<"flash-distinct-inits", "func::FuncOp"> {
  let summary = "Give every destination its own fill or bias broadcast "
                "before bufferization.";
  let description = [{
    CSE merges identical `linalg.fill`s and `linalg.broadcast`s: two
    convolutions with equal biases (zeros, as every batch norm folds to in a
    freshly built model) then start from one tensor. Bufferization kept it
    for the last writer and copied it for the others, and the ukernel
    rewrites, which look for the fill or broadcast right before the
    contraction, fell back to generated loops (a fresh torchvision
    MobileNetV2: 13 of 17 depthwise convolutions as scalar loops, 33 copies,
    20% slower). Each destination that shares such a producer gets a clone
    of it (and of its `tensor.empty`) just before itself. Here, after the
    last CSE, which would merge them again.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def DistinctResults : Pass<"flash-distinct-results", "func::FuncOp"> {
  let summary = "Give every function result a tensor of its own before "
                "bufferization.";
  let description = [{
    A function that returns one value twice (`return %y, %y`, as a traced
    `lambda x: (y, y)` does) crashed upstream's
    buffer-results-to-out-params, which turns each result into a caller's
    buffer. Every repeat becomes a copy (`bufferization.alloc_tensor ...
    copy(%y)`), so each result is written into its own buffer. Here, after
    the last CSE, which would merge the copies again.
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect"];
}

def MatmulToUkernel : Pass<"flash-matmul-to-ukernel", "ModuleOp"> {
  let summary = "Replace f32 matrix products on memrefs by calls to the "
                "packed sgemm ukernel.";
  let description = [{
    Every Linalg contraction on f32 memrefs that is a row-major matrix
    product, possibly batched with A or B shared across the batch
    (`linalg.matmul`, `linalg.batch_matmul`, the im2col form of a
    convolution), becomes `func.call @flash_matmul_f32(A, B, C)`
    (C += A * B), in an `scf.for` over the batch where there is one, on
    memrefs cast to a fully dynamic strided layout. The callee is declared
    with `llvm.emit_c_interface` and provided by the runtime
    (lib/Runtime/Ukernels). Products below `min-flops` stay in generated code.

    Each call also passes the ukernel's tunable parameters (mc, kc, nc,
    threads, register tile, B packing; 0 = default) and, for a batched
    product, how its batch loop runs (a seventh value: 1 an `scf.parallel`,
    each call on one thread; 2 sequential; 0 both loops under an `scf.if`
    on `flash_batch_in_parallel(batches, flops per call)`, the runtime's
    rule for the thread count of the call): the op's `flash.sgemm` attribute
    (an `array<i64>` of six, put there by fc.tune's database and carried
    from `flash.matmul` / `flash.batch_matmul` / `flash.conv2d` through the
    lowering), else the `sgemm` option, else zeros.

    With `constant-panels`, a product whose A or B is a constant global
    (a convolution's filter seen through the collapse of its shape; a
    compiled model's weights) calls `@flash_matmul_panels_f32` with one more
    i64 (1: A, 2: B, 3: both in panels) and a new constant global holding
    the operand in the ukernel's panels (B: ceil(N/16) panels of K x 16; A:
    ceil(M/6) panels of K x 6; zero-padded), packed once here instead of on
    every call (ONNX Runtime's MLAS prepacks weights the same way); the
    original global goes when nothing else reads it. Not for operands that
    vary over a batch, nor with a tuned register tile other than 6x16.

    With `epilogue`, an elementwise `linalg.generic` that directly follows
    the product and reads its result (through reshapes of the same buffer)
    is fused into the call when its body is bias adds (a vector along C's
    rows or columns), at most one residual add (a tensor of the result's
    shape) and then a clamp (`arith.maximumf` / `minimumf` with constants,
    or `-max(-x, c)`: ReLU, ReLU6, hardtanh): the call becomes
    `@flash_matmul_epilogue_f32`, which applies it to each tile of C while
    the tile is in L1 and writes the generic's output, and the generic goes.
    Not when the output aliases A or B, nor when C is still read afterwards.

    With `implicit-gemm`, a convolution's product whose B is the patch
    matrix of an im2col gather (the `linalg.generic` flash-conv-to-im2col
    marks with `flash.im2col`, its window) read by nothing else calls
    `@flash_conv_im2col_f32` instead, with the gather's (padded) input image
    and the window: the ukernel gathers each B block from the input as it
    packs it (Im2colSource in Ukernels.h), and the gather and its buffer go.

    With `winograd` (and `implicit-gemm`), such a convolution with a 3x3
    window, unit strides and dilations and a constant filter calls
    `@flash_conv_winograd_f32` instead where `convUsesWinograd` (Ukernels.h)
    says so (`winograd=auto`; `true`: every such convolution): the same arguments, A the filter transformed here into
    Winograd F(4x4, 3x3)'s 36 matrices (a new constant global); the
    runtime transforms the input and output (Winograd.cpp).
  }];
  let options = [
    Option<"minFlops", "min-flops", "int64_t", /*default=*/"0",
           "Only matmuls with at least this many FLOPs (2*M*N*K) use the "
           "ukernel">,
    ListOption<"sgemm", "sgemm", "int64_t",
               "Default ukernel parameters mc,kc,nc,threads,tile,packB,"
               "batchParallel (0: the ukernel's own choice)">,
    Option<"allowParallel", "allow-parallel", "bool", /*default=*/"true",
           "A batch loop may run as an scf.parallel (needs OpenMP)">,
    Option<"constantPanels", "constant-panels", "bool", /*default=*/"true",
           "Pack a constant B into the ukernel's panels when compiling">,
    Option<"epilogue", "epilogue", "bool", /*default=*/"true",
           "Fuse a following bias / residual / clamp generic into the call">,
    Option<"implicitGemm", "implicit-gemm", "bool", /*default=*/"true",
           "Gather a convolution's patches while packing them (no im2col "
           "copy)">,
    Option<"winograd", "winograd", "std::string", /*default=*/"\"auto\"",
           "Run 3x3 stride-1 convolutions with a constant filter by "
           "Winograd F(4x4, 3x3): auto (where convUsesWinograd says so), "
           "true (all of them) or false">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def DepthwiseToUkernel : Pass<"flash-depthwise-to-ukernel", "ModuleOp"> {
  let summary = "Replace f32 depthwise convolutions on memrefs by calls to "
                "the depthwise ukernel.";
  let description = [{
    The `linalg.generic` FlashToLinalg emits for a convolution with one
    input channel per group (loops n, g, f, c, oh, kh, kw, ow over the
    input and output split into groups by `expand_shape`, c of extent 1)
    becomes `func.call @flash_depthwise_conv2d_f32` (lib/Runtime/Ukernels,
    Depthwise.cpp), which takes the input unpadded, so the zero padding
    before it (an allocation filled with zeros and a copy of the input
    into its interior, as `tensor.pad` bufferizes) goes: the ukernel reads
    zeros outside the input without storing them. The zeros or the bias
    broadcast the output starts from becomes the call's bias.

    With `epilogue`, the elementwise generic right after it that adds a
    residual and clamps (ReLU, ReLU6; the same matcher as
    `flash-matmul-to-ukernel`'s) is applied by the call too, which then
    writes that generic's output; not with bias adds (the bias already
    came from the initial value), nor when the output is the input.
  }];
  let options = [
    Option<"epilogue", "epilogue", "bool", /*default=*/"true",
           "Fuse a following residual / clamp generic into the call">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect"];
}

def PoolToUkernel : Pass<"flash-pool-to-ukernel", "ModuleOp"> {
  let summary = "Replace f32 max and sum pooling on memrefs by calls to the "
                "pooling ukernel.";
  let description = [{
    The pooling `linalg.generic` FlashToLinalg emits (loops n, c, oh, kh,
    kw, ow; input map (n, c, oh*sh + kh, ow*sw + kw); a window operand
    that only carries the extent; a body of `arith.maximumf` or
    `arith.addf` of the output and the input), into an output a
    `linalg.fill` set to the identity (-inf or 0) right before, becomes
    `func.call @flash_pool2d_f32` (lib/Runtime/Ukernels, Pool.cpp). The
    padding before it (an allocation filled with the identity and a copy
    of the input into its interior, as `tensor.pad` bufferizes) and the
    init fill go: the ukernel clips each window to the input instead.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect"];
}

def ConvToIm2col : Pass<"flash-conv-to-im2col", "ModuleOp"> {
  let summary = "Rewrite 2-D convolutions as im2col + matrix multiplication.";
  let description = [{
    On tensors, `linalg.conv_2d_nchw_fchw` becomes a `linalg.generic` that
    gathers input patches into an N x (C*KH*KW) x OH x OW tensor and a
    contraction of the (F) x (C*KH*KW) filter with the patches of each image
    (collapsed to (C*KH*KW) x (OH*OW)), which `flash-matmul-to-ukernel`
    runs on the sgemm ukernel. Unlike MLIR's own im2col rewrite, the gather
    keeps OH and OW as separate loops, so its innermost loop is a plain
    strided copy that LLVM vectorizes. A batch of images may instead be
    one product: patches (C*KH*KW) x (N*OH*OW), a `linalg.matmul` from
    zero, then added to the output in NCHW order (a generic whose rows of
    OH*OW are contiguous). `batch-as-columns` chooses: `auto` (the default)
    takes one product where the runtime's rule (Ukernels.h,
    convBatchAsColumns: fewer than 256 pixels per image, at least 512
    columns in all) says the per-image products cannot amortize packing
    the filter; `true` and `false` force either lowering (fc.tune tries
    both). With `winograd`, `auto` keeps image by image a convolution that
    flash-matmul-to-ukernel will run by Winograd (a 3x3 window, unit
    strides and dilations, a constant filter, Ukernels.h's
    convUsesWinograd): its per-image call beats one product over all
    images.
  }];
  let options = [
    Option<"batchAsColumns", "batch-as-columns", "std::string",
           /*default=*/"\"auto\"",
           "A batch of images as one matrix product (N*OH*OW columns) "
           "rather than one product per image: auto, true or false">,
    Option<"winograd", "winograd", "bool", /*default=*/"false",
           "The ukernels run Winograd convolutions (auto keeps those image "
           "by image)">,
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

def LinalgToLoops : Pass<"flash-linalg-to-loops", "func::FuncOp"> {
  let summary = "Lower Linalg ops on memrefs to loops, parallel where the "
                "work is large enough.";
  let description = [{
    Like `convert-linalg-to-loops` (MLIR's linalgOpToLoops), except that in
    an op whose iteration space has at least `parallel-min-iterations`
    points, the outermost loop over a parallel dimension with at least 8
    iterations becomes an `scf.parallel`, which `convert-scf-to-openmp` then
    runs on all cores. One loop, not the whole nest: inner loops stay plain
    and vectorizable. Small ops stay sequential: a parallel region costs
    microseconds to start. Copies between strided memrefs (`memref.copy`,
    which would lower to an element-by-element runtime call) are lowered the
    same way, as `linalg.copy`.
  }];
  let options = [
    Option<"parallelMinIterations", "parallel-min-iterations", "int64_t",
           /*default=*/"0",
           "Ops with at least this many iterations become parallel loops "
           "(0: none)">,
    Option<"markParallelInnermost", "mark-parallel-innermost", "bool",
           /*default=*/"true",
           "Mark an innermost loop over a parallel dimension with "
           "llvm.loop.parallel_accesses and vectorize.enable">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

def EarlyDeallocation : Pass<"flash-early-deallocation", "func::FuncOp"> {
  let summary = "Free each temporary right after its last use instead of "
                "at the end of its block.";
  let description = [{
    Upstream's ownership-based buffer deallocation frees a buffer at the
    end of the block that allocated it: in a model's function every
    intermediate activation stays allocated until the return, so no two
    share memory, the call touches the sum of them (15.6 MB for
    MobileNetV3-large at batch 1) besides its weights, and each buffer is
    written from cold memory once per call. Each `memref.dealloc` of an
    allocation in the same block moves to just after the last op of that
    block that uses the buffer or a view of it; the runtime's block cache
    then hands the freed block, still in cache, to the next temporary.
    A buffer whose aliases are not all plain views (a pointer taken as an
    index, a value carried through a loop or a call's result) is left
    where it is.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def TagParallelAccesses : Pass<"flash-tag-parallel-accesses", "ModuleOp"> {
  let summary = "Tag the loads and stores of loops marked parallel by "
                "flash-linalg-to-loops with the loops' access group.";
  let description = [{
    flash-linalg-to-loops marks an innermost loop over a parallel dimension
    with a `loop_annotation` whose `parallelAccesses` names an access group;
    LLVM trusts the annotation only for loads and stores that carry the
    group, and memref loads and stores have no place for it before they are
    LLVM ops. This pass, after the conversion to the LLVM dialect, gives the
    group to every load and store in each marked loop's latch block (the
    whole body of an innermost loop). Accesses elsewhere keep no group, so
    LLVM checks them as before.
  }];
}

def ConstantsAsBytes : Pass<"flash-constants-as-bytes", "ModuleOp"> {
  let summary = "Store large constant globals (weights, packed panels) as "
                "byte arrays read through memref.view.";
  let description = [{
    A dense constant of rank r becomes nested LLVM arrays, one uniqued
    constant per innermost row, which LLVM's passes and asm printer visit
    one by one (most of a CNN's compile time); a rank-1 i8 array is one
    constant written as one block of bytes. Same bytes, same alignment (at
    least 64), so what runs is unchanged.
  }];
  let options = [
    Option<"minBytes", "min-bytes", "int64_t", /*default=*/"256",
           "Globals at least this large are rewritten">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

def ApproximateMath : Pass<"flash-approximate-math"> {
  let summary = "Replace exp, erf and tanh by MLIR's polynomial "
                "approximations, and pow with a constant exponent by "
                "multiplications, sqrt or a division.";
  let description = [{
    LLVM has no intrinsic for erf, and its exp and tanh become a libm call
    per element (scalar: softmax spent 7% of a transformer block in expf);
    MLIR's polynomial approximations (arith ops only, accurate to a few ulp
    in f32) stay vectorizable, which softmax, GELU and tanh layers need.
    MLIR's algebraic simplifications turn pow(x, c) for c in {-1, 0, 1, 2,
    3, 0.5, -0.5, 0.75, ...} into multiplications, sqrt, rsqrt or a
    division: otherwise each is a scalar libm powf call per element.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def FuseElementwise : Pass<"flash-fuse-elementwise"> {
  let summary = "Fuse elementwise Linalg ops into one loop nest, never into "
                "a contraction.";
  let description = [{
    MLIR's elementwise fusion patterns with a control function: a producer
    with one use fuses into its consumer unless either is a contraction or
    a convolution (so matmuls stay matmuls and reach the ukernel).
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

#endif // FLASH_CODEGEN_PASSES_TD
