//===- MapLoopsToGpu.cpp - Linalg on memrefs -> loops mapped to a grid ----===//
//
// One kernel per Linalg op: its parallel dimensions, collapsed, become one
// thread each (see Passes.td for why collapse rather than tile per
// dimension); its reductions stay loops inside the thread.
//
//===----------------------------------------------------------------------===//
#include "flash/Gpu/Passes.h"

#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::flash {
#define GEN_PASS_DEF_MAPLOOPSTOGPU
#include "flash/Gpu/Passes.h.inc"
} // namespace mlir::flash

using namespace mlir;

namespace {
/// Replaces an scf.parallel by a nest of scf.for with the same bounds.
void sequentialize(IRRewriter &rewriter, scf::ParallelOp loop) {
  rewriter.setInsertionPoint(loop);
  SmallVector<Value> ivs;
  Location loc = loop.getLoc();
  for (auto [lb, ub, step] : llvm::zip(loop.getLowerBound(),
                                       loop.getUpperBound(), loop.getStep())) {
    auto forOp = scf::ForOp::create(rewriter, loc, lb, ub, step);
    ivs.push_back(forOp.getInductionVar());
    rewriter.setInsertionPoint(forOp.getBody()->getTerminator());
  }
  Block *body = loop.getBody();
  rewriter.eraseOp(body->getTerminator());
  rewriter.inlineBlockBefore(body, rewriter.getInsertionBlock(),
                             rewriter.getInsertionPoint(), ivs);
  rewriter.eraseOp(loop);
}

/// A Linalg op whose parallel dimensions all come first (as a generic), so
/// that linalgOpToParallelLoops puts them in one outer scf.parallel.
FailureOr<linalg::LinalgOp> parallelFirst(IRRewriter &rewriter,
                                          linalg::LinalgOp op) {
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!generic) {
    rewriter.setInsertionPoint(op);
    auto generalized = linalg::generalizeNamedOp(rewriter, op);
    if (failed(generalized))
      return op; // no region builder: lower as it is
    generic = *generalized;
  }
  SmallVector<utils::IteratorType> iterators =
      generic.getIteratorTypesArray();
  SmallVector<unsigned> order;
  for (auto kind : {utils::IteratorType::parallel,
                    utils::IteratorType::reduction})
    for (auto [dim, it] : llvm::enumerate(iterators))
      if (it == kind)
        order.push_back(dim);
  if (llvm::equal(order, llvm::seq<unsigned>(0, order.size())))
    return cast<linalg::LinalgOp>(generic.getOperation());
  auto interchanged = linalg::interchangeGenericOp(rewriter, generic, order);
  if (failed(interchanged))
    return failure();
  return cast<linalg::LinalgOp>(interchanged->getOperation());
}

struct MapLoopsToGpu
    : mlir::flash::impl::MapLoopsToGpuBase<MapLoopsToGpu> {
  using MapLoopsToGpuBase::MapLoopsToGpuBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    IRRewriter rewriter(&getContext());

    // memref.copy (what bufferization emits for copies) as a Linalg op, so
    // that it runs on the device too.
    SmallVector<memref::CopyOp> copies;
    func.walk([&](memref::CopyOp copy) { copies.push_back(copy); });
    for (memref::CopyOp copy : copies) {
      rewriter.setInsertionPoint(copy);
      linalg::CopyOp::create(rewriter, copy.getLoc(), copy.getSource(),
                             copy.getTarget());
      rewriter.eraseOp(copy);
    }

    SmallVector<linalg::LinalgOp> ops;
    func.walk([&](linalg::LinalgOp op) { ops.push_back(op); });
    for (linalg::LinalgOp original : ops) {
      if (!original.hasPureBufferSemantics()) {
        original.emitOpError("expected memref operands (bufferize first)");
        return signalPassFailure();
      }
      FailureOr<linalg::LinalgOp> op = parallelFirst(rewriter, original);
      if (failed(op)) {
        original.emitOpError("cannot order its loops parallel-first");
        return signalPassFailure();
      }
      if (failed(distribute(rewriter, *op)))
        return signalPassFailure();
    }
  }

  /// Lowers `op` to loops inside an scf.parallel over (block_x, block_y,
  /// thread_x) that covers its parallel iterations, one per thread.
  LogicalResult distribute(IRRewriter &rewriter, linalg::LinalgOp op) {
    Location loc = op.getLoc();
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    int64_t numParallel = op.getNumParallelLoops();
    int64_t total = 1;
    for (int64_t d = 0; d < numParallel; ++d) {
      if (ShapedType::isDynamic(ranges[d]))
        return op.emitOpError("has a dynamic loop range; the GPU pipeline "
                              "needs static shapes");
      total *= ranges[d];
    }
    int64_t block = std::max<int64_t>(1, std::min<int64_t>(blockSize, total));
    int64_t groups = (total + block - 1) / block;
    int64_t gridX = std::min<int64_t>(groups, maxGridX);
    int64_t gridY = (groups + gridX - 1) / gridX;
    if (gridY > maxGridX)
      return op.emitOpError("needs ")
             << groups << " workgroups of " << block
             << " threads: more than the grid holds";

    rewriter.setInsertionPoint(op);
    auto c = [&](int64_t v) {
      return arith::ConstantIndexOp::create(rewriter, loc, v).getResult();
    };
    Value zero = c(0), one = c(1);
    auto grid = scf::ParallelOp::create(
        rewriter, loc, ValueRange{zero, zero, zero},
        ValueRange{c(gridX), c(gridY), c(block)}, ValueRange{one, one, one});
    MLIRContext *ctx = &getContext();
    AffineMap id = rewriter.getDimIdentityMap();
    SmallVector<gpu::ParallelLoopDimMappingAttr> mapping;
    for (gpu::Processor p : {gpu::Processor::BlockX, gpu::Processor::BlockY,
                             gpu::Processor::ThreadX})
      mapping.push_back(gpu::ParallelLoopDimMappingAttr::get(ctx, p, id, id));
    if (failed(gpu::setMappingAttr(grid, mapping)))
      return op.emitOpError("cannot map its loops to the GPU grid");

    // linear = (by * gridX + bx) * block + tx; only linear < total works.
    rewriter.setInsertionPoint(grid.getBody()->getTerminator());
    ValueRange ids = grid.getInductionVars();
    Value linear = arith::AddIOp::create(
        rewriter, loc,
        arith::MulIOp::create(
            rewriter, loc,
            arith::AddIOp::create(
                rewriter, loc,
                arith::MulIOp::create(rewriter, loc, ids[1], c(gridX)),
                ids[0]),
            c(block)),
        ids[2]);
    Value inRange = arith::CmpIOp::create(
        rewriter, loc, arith::CmpIPredicate::ult, linear, c(total));
    auto guard = scf::IfOp::create(rewriter, loc, inRange,
                                   /*withElseRegion=*/false);
    rewriter.setInsertionPoint(guard.thenBlock()->getTerminator());
    op->moveBefore(guard.thenBlock()->getTerminator());

    FailureOr<linalg::LinalgLoops> loops =
        linalg::linalgOpToParallelLoops(rewriter, op);
    if (failed(loops))
      return op.emitOpError("cannot be lowered to loops");
    rewriter.eraseOp(op);
    if (numParallel == 0)
      return success(); // one thread runs the whole op
    auto parallel = dyn_cast<scf::ParallelOp>(loops->front());
    if (!parallel ||
        static_cast<int64_t>(parallel.getNumLoops()) != numParallel)
      return emitError(loc, "expected one scf.parallel over the ")
             << numParallel << " parallel dimensions";
    // Any nested scf.parallel (none after parallelFirst, in principle) runs
    // sequentially inside the thread.
    SmallVector<scf::ParallelOp> nested;
    parallel.getBody()->walk(
        [&](scf::ParallelOp inner) { nested.push_back(inner); });
    for (scf::ParallelOp inner : llvm::reverse(nested))
      sequentialize(rewriter, inner);

    // Each parallel dimension's index from the linear one (row-major).
    rewriter.setInsertionPoint(parallel);
    SmallVector<Value> ivs(numParallel);
    int64_t stride = total;
    for (int64_t d = 0; d < numParallel; ++d) {
      stride /= ranges[d];
      Value q = arith::DivUIOp::create(rewriter, loc, linear, c(stride));
      ivs[d] = d == 0 ? q
                      : arith::RemUIOp::create(rewriter, loc, q, c(ranges[d]))
                            .getResult();
    }
    Block *body = parallel.getBody();
    rewriter.eraseOp(body->getTerminator());
    rewriter.inlineBlockBefore(body, parallel, ivs);
    rewriter.eraseOp(parallel);
    return success();
  }
};
} // namespace
