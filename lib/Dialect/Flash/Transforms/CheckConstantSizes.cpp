//===- CheckConstantSizes.cpp - A bound on what constants may hold --------===//
//
// The compile-memory bound of docs/reliability.md: every attribute holding
// elements (flash.constant's value, arith.constant's, a global's initial
// value) counts at its type's size, splats included; a program whose
// constants together pass `max-bytes` is refused on the constant that
// crossed the limit.
//
//===----------------------------------------------------------------------===//
#include "flash/Dialect/Flash/Transforms/Passes.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"

#include <algorithm>

namespace mlir::flash {
#define GEN_PASS_DEF_FLASHCHECKCONSTANTSIZES
#include "flash/Dialect/Flash/Transforms/Passes.h.inc"
} // namespace mlir::flash

using namespace mlir;

namespace {
/// Bytes the elements take laid out densely; saturates instead of wrapping
/// (the verifier already refuses types past 64-bit sizes).
uint64_t bytesOf(ElementsAttr elements) {
  auto type = dyn_cast<ShapedType>(elements.getType());
  if (!type || !type.hasStaticShape())
    return 0;
  Type element = type.getElementType();
  uint64_t bits = element.isIntOrIndexOrFloat()
                      ? element.getIntOrFloatBitWidth()
                      : 64; // complex and others: a word is a fair guess
  uint64_t count = static_cast<uint64_t>(type.getNumElements());
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(count, (bits + 7) / 8, &bytes))
    return UINT64_MAX;
  return bytes;
}

struct CheckConstantSizes
    : public flash::impl::FlashCheckConstantSizesBase<CheckConstantSizes> {
  using FlashCheckConstantSizesBase::FlashCheckConstantSizesBase;

  void runOnOperation() override {
    uint64_t limit = static_cast<uint64_t>(std::max<int64_t>(maxBytes, 0));
    uint64_t total = 0;
    WalkResult walked = getOperation().walk([&](Operation *op) {
      for (NamedAttribute attr : op->getAttrs()) {
        auto elements = dyn_cast<ElementsAttr>(attr.getValue());
        if (!elements)
          continue;
        uint64_t bytes = bytesOf(elements);
        if (__builtin_add_overflow(total, bytes, &total) || total > limit) {
          op->emitError() << "the program's constants hold more than "
                          << limit << " bytes (this one, "
                          << elements.getType() << ", " << bytes
                          << " bytes" << (elements.isSplat() ? ", a splat" : "")
                          << "): raise the pipeline option "
                             "max-constant-bytes to compile it";
          return WalkResult::interrupt();
        }
      }
      return WalkResult::advance();
    });
    if (walked.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
