//===- OpCost.h - FLOPs, bytes and kernels of a Flash graph -----*- C++ -*-===//
//
// The cost of every op of a Flash function (after graph optimization): its
// FLOPs, the bytes it reads and writes, its kind, and the kernel it runs in
// once the lowering has fused it (the same rules as flash-fuse-elementwise:
// elementwise ops fuse into their single-use elementwise producer's loop;
// contractions, pooling, transposes and concats are kernels of their own;
// reshapes are views). The simulator, the analysis report and the tuner
// all read these numbers; nothing else counts FLOPs.
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_ANALYSIS_OPCOST_H
#define FLASH_ANALYSIS_OPCOST_H

#include <cstdint>
#include <string>
#include <vector>

// No MLIR headers: the Python module includes this (its types are plain).
namespace mlir::func {
class FuncOp;
} // namespace mlir::func

namespace mlir::flash {

struct OpCost {
  std::string op;       ///< e.g. "flash.matmul"
  std::string location; ///< "file:line" of the op, if known
  std::string kind;     ///< contraction, elementwise, reduction, pooling,
                        ///< layout, view, constant
  std::string shapes;   ///< "(4x8xf32, 8x16xf32) -> 4x16xf32", for reading
  std::vector<std::vector<int64_t>> operandShapes; ///< the same, as data
  int64_t flops = 0;    ///< arithmetic operations (a transcendental counts as
                        ///< the ops of its polynomial)
  /// Elements an elementwise op computes (flops / elements: its count per
  /// element, which a calibrated host re-measures; 0 for other kinds).
  int64_t elements = 0;
  int64_t bytesIn = 0;  ///< operand bytes
  int64_t bytesOut = 0; ///< result bytes
  /// For contractions (and convolutions as im2col GEMMs): C[b] = A[b] B[b]
  /// with A MxK, B KxN.
  int64_t batch = 0, m = 0, n = 0, k = 0;
  /// Elements the op copies per contiguous row, where it is a copy: a
  /// convolution's im2col patch row (OW; 0 for a pointwise convolution,
  /// which gathers nothing); a transpose's rows when it keeps
  /// the innermost axes in place (1 when the innermost axis moves: an
  /// element-by-element gather); a concatenation's smallest slab.
  int64_t copyRow = 0;
  /// A 3x3 stride-1 convolution with a constant filter that the CPU
  /// pipeline runs by Winograd F(4x4, 3x3) (Ukernels.h's
  /// convUsesWinograd); batch..k and copyRow still describe its im2col
  /// GEMM, which the host model re-prices (sim/model.py).
  bool winograd = false;
  /// A convolution over few input channels that an AVX-512 host runs by
  /// the direct kernel (Ukernels.h's convRunsDirect), not as its im2col
  /// GEMM; batch..k still describe that GEMM.
  bool direct = false;
  /// An implicit GEMM whose AVX-512 packing reads a panel's k row with one
  /// shifted load (Ukernels.h's im2colPacksFlat), not run by run.
  bool flatPacking = false;
  int kernel = -1; ///< the fused kernel this op runs in (-1: no kernel)
  /// Where each operand comes from: the index of the producing op in
  /// GraphCost::ops, or -1 - n for function argument n.
  std::vector<int> operands;
  bool returned = false; ///< its result is a function result
  /// A constant holding one value: the compiler neither prepacks it into
  /// panels nor runs Winograd on it as a filter (MatmulToUkernel's
  /// constantOperand), so the models price it as an argument there.
  bool splat = false;
};

/// One fused kernel: the ops in it and its traffic to and from memory.
struct KernelCost {
  int id = 0;
  std::string kind;   ///< the kind of its main op
  std::vector<int> ops;
  int64_t flops = 0, bytesIn = 0, bytesOut = 0;
  int64_t batch = 0, m = 0, n = 0, k = 0, copyRow = 0;
  bool winograd = false; ///< its contraction runs by Winograd (OpCost)
  bool direct = false;   ///< by the direct kernel on AVX-512 (OpCost)
  bool flatPacking = false; ///< packed by one shift per panel row (OpCost)
};

struct GraphCost {
  std::vector<OpCost> ops;
  std::vector<KernelCost> kernels;
};

/// How a stack groups ops into kernels beyond the host compiler's rules
/// (the simulator's per-device-kind stacks, python/flashcompile/sim/
/// stacks.toml). The defaults are what FlashCompile's CPU pipeline does.
struct FusionRules {
  /// Every elementwise kernel that reads a contraction's only result joins
  /// it (cuBLASLt / TensorRT / XLA epilogues), not only bias and residual
  /// adds with ReLU or clamps (the sgemm ukernel's epilogue).
  bool elementwiseEpilogues = false;
  /// softmax(Q K^T) V as one kernel (flash-attention): a product whose
  /// left operand is computed only from another product through
  /// elementwise ops and reductions used nowhere else takes that product
  /// and those ops into its kernel, so the scores never reach memory.
  bool fusedAttention = false;
};

GraphCost analyzeGraphCost(func::FuncOp func, const FusionRules &rules = {});

/// Registers --flash-print-cost with the pass registry.
void registerGraphCostPass();

} // namespace mlir::flash

#endif // FLASH_ANALYSIS_OPCOST_H
