//===- ConstantsAsBytes.cpp - Large constant globals as byte arrays -------===//
//
// A model's weights are memref.globals of f32 with several dimensions. MLIR
// translates a dense attribute of rank r to LLVM as nested arrays: one
// uniqued ConstantDataArray per innermost row (ResNet-18's packed panels:
// two million rows of 6 or 16 floats), which LLVM's call-graph walk, its
// constant uniquing and the asm printer (one emitIntValue per float) then
// visit one by one: 3 of the 4.7 s ResNet-18 took to compile. A byte array
// (i8, rank 1) is one constant LLVM writes with a single emitBytes, so each
// large constant global becomes memref<Bxi8> holding the same bytes, read
// through a memref.view of the original type (Passes.td:
// flash-constants-as-bytes).
//
//===----------------------------------------------------------------------===//
#include "flash/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::flash {
#define GEN_PASS_DEF_CONSTANTSASBYTES
#include "flash/Codegen/Passes.h.inc"
} // namespace mlir::flash

using namespace mlir;

namespace {
/// The initializer's bytes as LLVM lays the memref out, or failure when the
/// global is not a large, dense, non-splat constant of whole-byte elements
/// (i1 is bit-packed in a DenseElementsAttr, a splat stores one element).
FailureOr<ArrayRef<char>> bytesOf(memref::GlobalOp global, int64_t minBytes) {
  auto type = global.getType();
  auto init =
      dyn_cast_or_null<DenseElementsAttr>(global.getInitialValueAttr());
  Type element = type.getElementType();
  if (!global.getConstant() || !init || init.isSplat() ||
      !type.hasStaticShape() || !type.getLayout().isIdentity() ||
      type.getMemorySpace() || !element.isIntOrFloat() ||
      element.getIntOrFloatBitWidth() % 8 != 0 ||
      (type.getRank() == 1 && element.isInteger(8)))
    return failure();
  ArrayRef<char> raw = init.getRawData();
  if (static_cast<int64_t>(raw.size()) < minBytes ||
      static_cast<int64_t>(raw.size()) !=
          type.getNumElements() * element.getIntOrFloatBitWidth() / 8)
    return failure();
  return raw;
}

struct ConstantsAsBytes
    : mlir::flash::impl::ConstantsAsBytesBase<ConstantsAsBytes> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto uses = [&] {
      llvm::DenseMap<StringAttr, SmallVector<memref::GetGlobalOp>> map;
      module.walk([&](memref::GetGlobalOp get) {
        map[get.getNameAttr().getAttr()].push_back(get);
      });
      return map;
    }();
    for (auto global : module.getOps<memref::GlobalOp>()) {
      FailureOr<ArrayRef<char>> bytes = bytesOf(global, minBytes);
      if (failed(bytes))
        continue;
      MemRefType original = global.getType();
      auto byteType = MemRefType::get({static_cast<int64_t>(bytes->size())},
                                      IntegerType::get(&getContext(), 8));
      auto byteTensor = RankedTensorType::get(byteType.getShape(),
                                              byteType.getElementType());
      global.setType(byteType);
      global.setInitialValueAttr(
          DenseElementsAttr::getFromRawBuffer(byteTensor, *bytes));
      // An i8 array is byte-aligned: keep at least the element's alignment
      // (and a cache line, for the ukernels' vector loads).
      int64_t alignment = std::max<int64_t>(global.getAlignment().value_or(0),
                                            64);
      global.setAlignmentAttr(
          IntegerAttr::get(IntegerType::get(&getContext(), 64), alignment));
      for (memref::GetGlobalOp get : uses.lookup(global.getSymNameAttr())) {
        OpBuilder b(get);
        Location loc = get.getLoc();
        Value raw = memref::GetGlobalOp::create(b, loc, byteType,
                                                global.getSymName());
        Value zero = arith::ConstantIndexOp::create(b, loc, 0);
        Value view = memref::ViewOp::create(b, loc, original, raw, zero,
                                            ValueRange());
        get.replaceAllUsesWith(view);
        get.erase();
      }
    }
  }
};
} // namespace
