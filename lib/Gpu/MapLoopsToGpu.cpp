//===- MapLoopsToGpu.cpp - Linalg on memrefs -> loops mapped to a grid ----===//
//
// One kernel per Linalg op: its parallel dimensions, collapsed, become one
// thread each (see Passes.td for why collapse rather than tile per
// dimension); its reductions stay loops inside the thread.
//
//===----------------------------------------------------------------------===//
#include "flash/Gpu/Passes.h"

#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
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

/// The side of a matmul kernel's output tile and of its K step: a
/// workgroup of kTile x kTile threads, one output element each, stages
/// kTile x kTile tiles of A and B in workgroup memory per step, so each
/// element loaded from global memory serves kTile multiply-adds.
constexpr int64_t kTile = 16;

/// A matrix product C(b?, m, n) += A(b?, m, k) * B(b?, k, n) in any Linalg
/// form: linalg.matmul, linalg.batch_matmul, or the generic contraction an
/// im2col convolution becomes (its filter A shared across the batch).
struct Contraction {
  int64_t batch = 1, m = 0, n = 0, k = 0;
  bool aBatched = false, bBatched = false, cBatched = false;
};

/// The dimension positions of `map`'s results, if all are plain dims.
std::optional<SmallVector<unsigned>> dims(AffineMap map) {
  SmallVector<unsigned> out;
  for (AffineExpr e : map.getResults()) {
    auto d = dyn_cast<AffineDimExpr>(e);
    if (!d)
      return std::nullopt;
    out.push_back(d.getPosition());
  }
  return out;
}

std::optional<Contraction> contraction(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !linalg::isaContractionOpInterface(op) || op.getNumReductionLoops() != 1)
    return std::nullopt;
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type || !type.hasStaticShape() || !type.getElementType().isF32())
      return std::nullopt;
  }
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  auto a = dims(maps[0]), b = dims(maps[1]), c = dims(maps[2]);
  if (!a || !b || !c || (c->size() != 2 && c->size() != 3))
    return std::nullopt;
  unsigned kDim = 0;
  for (auto [d, it] : llvm::enumerate(op.getIteratorTypesArray()))
    if (it == utils::IteratorType::reduction)
      kDim = d;
  Contraction result;
  result.cBatched = c->size() == 3;
  unsigned mDim = (*c)[c->size() - 2], nDim = (*c)[c->size() - 1];
  auto matches = [&](ArrayRef<unsigned> got, unsigned row, unsigned col,
                     bool &batched) {
    if (got.size() == 3 && result.cBatched && got[0] == (*c)[0]) {
      batched = true;
      got = got.drop_front();
    }
    return got.size() == 2 && got[0] == row && got[1] == col;
  };
  if (!matches(*a, mDim, kDim, result.aBatched) ||
      !matches(*b, kDim, nDim, result.bBatched))
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  result.batch = result.cBatched ? ranges[(*c)[0]] : 1;
  result.m = ranges[mDim];
  result.n = ranges[nDim];
  result.k = ranges[kDim];
  return result;
}

/// The attribute that carries a kernel's work, [FLOPs, bytes moved, FLOPs
/// issued], from the op it was made from to the gpu.func (RecordLaunchSizes
/// lifts it): the simulator prices the kernels the GPU pipeline emitted
/// with it. "Issued" counts what the threads execute, padding included: a
/// 16x16-tiled product of a 2-row matrix computes 16 rows.
constexpr llvm::StringLiteral kKernelCost = "flash.kernel_cost";

int64_t numBytes(Value v) {
  auto type = cast<MemRefType>(v.getType());
  return type.getNumElements() *
         std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
}

/// FLOPs: the op's iterations times the floating-point operations of its
/// body (math functions count one); bytes: each input read once, the
/// output written once (and read when the body reads it).
std::array<int64_t, 3> kernelCost(linalg::LinalgOp op) {
  int64_t iterations = 1;
  for (int64_t r : op.getStaticLoopRanges())
    iterations *= ShapedType::isDynamic(r) ? 1 : r;
  int64_t perIteration = 0;
  if (Block *body = op.getBlock())
    for (Operation &inner : body->without_terminator())
      if (inner.getNumResults() == 1 &&
          isa<FloatType>(inner.getResult(0).getType()) &&
          !isa<arith::ConstantOp>(inner))
        ++perIteration;
  int64_t bytes = 0;
  for (OpOperand *input : op.getDpsInputOperands())
    if (isa<MemRefType>(input->get().getType()))
      bytes += numBytes(input->get());
  for (OpOperand &init : op.getDpsInitsMutable()) {
    bytes += numBytes(init.get());
    if (op.payloadUsesValueFromOperand(&init))
      bytes += numBytes(init.get());
  }
  return {iterations * perIteration, bytes, iterations * perIteration};
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
      if (auto shape = contraction(original)) {
        if (mmaTf32 && shape->m % 16 == 0 && shape->n % 8 == 0 &&
            shape->k % 4 == 0)
          warpMmaMatmul(rewriter, original, *shape);
        else
          tiledMatmul(rewriter, original, *shape);
        continue;
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

  /// C += A B with TF32 tensor cores: a workgroup of one warp per 16x8
  /// tile of C (z: the batch), stepping K by 4; each step a 16x4 by 4x8
  /// linalg.matmul on views of A, B and C marked `flash.mma`, which
  /// flash-gpu-mma-sync turns into per-lane fragment loads, one
  /// mma.sync.m16n8k4 (tf32) and the stores of C's fragment. Needs M, N,
  /// K multiples of 16, 8, 4 (else tiledMatmul).
  void warpMmaMatmul(IRRewriter &rewriter, linalg::LinalgOp op,
                     const Contraction &shape) {
    Location loc = op.getLoc();
    rewriter.setInsertionPoint(op);
    auto cst = [&](int64_t v) {
      return arith::ConstantIndexOp::create(rewriter, loc, v).getResult();
    };
    Value zero = cst(0), one = cst(1);
    auto grid = scf::ParallelOp::create(
        rewriter, loc, ValueRange{zero, zero, zero, zero},
        ValueRange{cst(shape.n / 8), cst(shape.m / 16), cst(shape.batch),
                   cst(32)},
        ValueRange{one, one, one, one});
    AffineMap id = rewriter.getDimIdentityMap();
    SmallVector<gpu::ParallelLoopDimMappingAttr> mapping;
    for (gpu::Processor p : {gpu::Processor::BlockX, gpu::Processor::BlockY,
                             gpu::Processor::BlockZ, gpu::Processor::ThreadX})
      mapping.push_back(
          gpu::ParallelLoopDimMappingAttr::get(&getContext(), p, id, id));
    (void)gpu::setMappingAttr(grid, mapping);
    rewriter.setInsertionPoint(grid.getBody()->getTerminator());
    ValueRange ids = grid.getInductionVars();
    Value col0 = arith::MulIOp::create(rewriter, loc, ids[0], cst(8));
    Value row0 = arith::MulIOp::create(rewriter, loc, ids[1], cst(16));
    // A 2-D view [r0, r0+rows) x [c0, c0+cols) of `memref` (of the batch
    // entry `ids[2]` when batched).
    auto view = [&](Value memref, bool batched, Value r0, Value c0,
                    int64_t rows, int64_t cols) -> Value {
      auto type = cast<MemRefType>(memref.getType());
      SmallVector<OpFoldResult> offsets, sizes, strides;
      if (batched) {
        offsets.push_back(ids[2]);
        sizes.push_back(rewriter.getIndexAttr(1));
        strides.push_back(rewriter.getIndexAttr(1));
      }
      offsets.append({r0, c0});
      sizes.append({rewriter.getIndexAttr(rows), rewriter.getIndexAttr(cols)});
      strides.append({rewriter.getIndexAttr(1), rewriter.getIndexAttr(1)});
      auto resultType = memref::SubViewOp::inferRankReducedResultType(
          {rows, cols}, type, offsets, sizes, strides);
      return memref::SubViewOp::create(rewriter, loc,
                                       cast<MemRefType>(resultType), memref,
                                       offsets, sizes, strides);
    };
    Value a = op.getDpsInputOperand(0)->get();
    Value b = op.getDpsInputOperand(1)->get();
    Value c = op.getDpsInitOperand(0)->get();
    Value cView = view(c, shape.cBatched, row0, col0, 16, 8);
    auto kLoop = scf::ForOp::create(rewriter, loc, zero, cst(shape.k), cst(4));
    rewriter.setInsertionPoint(kLoop.getBody()->getTerminator());
    Value k0 = kLoop.getInductionVar();
    Value aView = view(a, shape.aBatched, row0, k0, 16, 4);
    Value bView = view(b, shape.bBatched, k0, col0, 4, 8);
    auto matmul = linalg::MatmulOp::create(rewriter, loc,
                                           ValueRange{aView, bView},
                                           ValueRange{cView});
    matmul->setAttr("flash.mma", rewriter.getUnitAttr());
    rewriter.setInsertionPointAfter(kLoop);
    auto cost = kernelCost(op);
    cost[0] = cost[2] = 2 * shape.batch * shape.m * shape.n * shape.k;
    kLoop->setAttr(kKernelCost, rewriter.getDenseI64ArrayAttr(cost));
    rewriter.eraseOp(op);
  }

  /// C += A B as one workgroup per kTile x kTile tile of C (z: the batch),
  /// a thread per element of the tile, the K loop in steps of kTile over
  /// tiles of A and B staged in workgroup memory (memory space 3) between
  /// barriers; the sum stays in a register. Edges are guarded: threads
  /// past M or N load zeros and store nothing.
  void tiledMatmul(IRRewriter &rewriter, linalg::LinalgOp op,
                   const Contraction &shape) {
    int64_t batch = shape.batch, m = shape.m, n = shape.n, k = shape.k;
    auto roundUp = [](int64_t v) { return (v + kTile - 1) / kTile * kTile; };
    Location loc = op.getLoc();
    Value a = op.getDpsInputOperand(0)->get();
    Value b = op.getDpsInputOperand(1)->get();
    Value c = op.getDpsInitOperand(0)->get();
    rewriter.setInsertionPoint(op);
    auto cst = [&](int64_t v) {
      return arith::ConstantIndexOp::create(rewriter, loc, v).getResult();
    };
    Value zero = cst(0), one = cst(1), tile = cst(kTile);
    auto grid = scf::ParallelOp::create(
        rewriter, loc, ValueRange{zero, zero, zero, zero, zero},
        ValueRange{cst((n + kTile - 1) / kTile), cst((m + kTile - 1) / kTile),
                   cst(batch), tile, tile},
        ValueRange{one, one, one, one, one});
    AffineMap id = rewriter.getDimIdentityMap();
    SmallVector<gpu::ParallelLoopDimMappingAttr> mapping;
    for (gpu::Processor p :
         {gpu::Processor::BlockX, gpu::Processor::BlockY,
          gpu::Processor::BlockZ, gpu::Processor::ThreadX,
          gpu::Processor::ThreadY})
      mapping.push_back(
          gpu::ParallelLoopDimMappingAttr::get(&getContext(), p, id, id));
    (void)gpu::setMappingAttr(grid, mapping);
    rewriter.setInsertionPoint(grid.getBody()->getTerminator());
    ValueRange ids = grid.getInductionVars();
    Value bx = ids[0], by = ids[1], bz = ids[2], tx = ids[3], ty = ids[4];
    auto add = [&](Value x, Value y) {
      return arith::AddIOp::create(rewriter, loc, x, y).getResult();
    };
    auto mul = [&](Value x, Value y) {
      return arith::MulIOp::create(rewriter, loc, x, y).getResult();
    };
    auto lt = [&](Value x, int64_t bound) {
      return arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ult,
                                   x, cst(bound))
          .getResult();
    };
    auto both = [&](Value x, Value y) {
      return arith::AndIOp::create(rewriter, loc, x, y).getResult();
    };
    auto index = [&](bool batched, Value r, Value col) {
      SmallVector<Value, 3> idx;
      if (batched)
        idx.push_back(bz);
      idx.push_back(r);
      idx.push_back(col);
      return idx;
    };
    Type f32 = rewriter.getF32Type();
    Value fzero = arith::ConstantOp::create(rewriter, loc, f32,
                                            rewriter.getF32FloatAttr(0));
    // load(memref, idx) if `cond`, else 0.
    auto guardedLoad = [&](Value cond, Value memref, ValueRange idx) {
      auto ifOp = scf::IfOp::create(rewriter, loc, TypeRange{f32}, cond,
                                    /*withElseRegion=*/true);
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(ifOp.thenBlock());
      Value v = memref::LoadOp::create(rewriter, loc, memref, idx);
      scf::YieldOp::create(rewriter, loc, v);
      rewriter.setInsertionPointToStart(ifOp.elseBlock());
      scf::YieldOp::create(rewriter, loc, fzero);
      return ifOp.getResult(0);
    };

    auto tileType = MemRefType::get({kTile, kTile}, f32, MemRefLayoutAttrInterface(),
                                    rewriter.getI64IntegerAttr(3));
    auto aTileAlloc = memref::AllocOp::create(rewriter, loc, tileType);
    Value aTile = aTileAlloc;
    aTileAlloc->setAttr(kKernelCost,
                        rewriter.getDenseI64ArrayAttr(
                            {2 * batch * m * n * k,
                             4 * ((shape.aBatched ? batch : 1) * m * k +
                                  (shape.bBatched ? batch : 1) * k * n +
                                  2 * batch * m * n),
                             2 * batch * roundUp(m) * roundUp(n) * roundUp(k)}));
    Value bTile = memref::AllocOp::create(rewriter, loc, tileType);
    Value row = add(mul(by, tile), ty), col = add(mul(bx, tile), tx);
    Value inRow = lt(row, m), inCol = lt(col, n), inC = both(inRow, inCol);
    Value init = guardedLoad(inC, c, index(shape.cBatched, row, col));
    auto kLoop = scf::ForOp::create(rewriter, loc, zero, cst(k), tile,
                                    ValueRange{init});
    {
      // (A for with results has no terminator until we add the yield.)
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToEnd(kLoop.getBody());
      Value k0 = kLoop.getInductionVar();
      Value aCol = add(k0, tx), bRow = add(k0, ty);
      Value av = guardedLoad(both(inRow, lt(aCol, k)), a,
                             index(shape.aBatched, row, aCol));
      memref::StoreOp::create(rewriter, loc, av, aTile, ValueRange{ty, tx});
      Value bv = guardedLoad(both(lt(bRow, k), inCol), b,
                             index(shape.bBatched, bRow, col));
      memref::StoreOp::create(rewriter, loc, bv, bTile, ValueRange{ty, tx});
      gpu::BarrierOp::create(rewriter, loc);
      auto inner = scf::ForOp::create(rewriter, loc, zero, tile, one,
                                      ValueRange{kLoop.getRegionIterArg(0)});
      {
        OpBuilder::InsertionGuard innerGuard(rewriter);
        rewriter.setInsertionPointToEnd(inner.getBody());
        Value kk = inner.getInductionVar();
        Value x = memref::LoadOp::create(rewriter, loc, aTile, ValueRange{ty, kk});
        Value y = memref::LoadOp::create(rewriter, loc, bTile, ValueRange{kk, tx});
        Value sum = arith::AddFOp::create(
            rewriter, loc, inner.getRegionIterArg(0),
            arith::MulFOp::create(rewriter, loc, x, y));
        scf::YieldOp::create(rewriter, loc, ValueRange{sum});
      }
      gpu::BarrierOp::create(rewriter, loc);
      scf::YieldOp::create(rewriter, loc, inner.getResults());
    }
    auto store = scf::IfOp::create(rewriter, loc, inC, /*withElseRegion=*/false);
    rewriter.setInsertionPoint(store.thenBlock()->getTerminator());
    memref::StoreOp::create(rewriter, loc, kLoop.getResult(0), c,
                            index(shape.cBatched, row, col));
    rewriter.eraseOp(op);
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
    guard->setAttr(kKernelCost, rewriter.getDenseI64ArrayAttr(kernelCost(op)));
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
