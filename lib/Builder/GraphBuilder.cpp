//===- GraphBuilder.cpp - Build Flash functions op by op ------------------===//
#include "flash/Builder/GraphBuilder.h"
#include "flash/Builder/BuiltModule.h"
#include "flash/Dialect/Flash/IR/FlashOps.h"
#include "flash/InitAll.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using ::flash::builder::AttrValue;
using ::flash::builder::BuiltModule;
using ::flash::builder::GraphBuilder;
using ::flash::builder::SourceLocation;

struct GraphBuilder::Impl {
  // The context is owned through `built`, which finish() hands its module
  // to and takeModule() hands over whole.
  std::unique_ptr<BuiltModule> built = std::make_unique<BuiltModule>(
      BuiltModule{std::make_unique<MLIRContext>(
                      MLIRContext::Threading::DISABLED),
                  nullptr});
  MLIRContext &ctx = *built->context;
  OpBuilder builder{&ctx};
  std::unique_ptr<Block> body = std::make_unique<Block>();
  std::vector<Value> values;
  // Kept apart from `values`, which die with the module finish() prints.
  std::vector<std::vector<int64_t>> shapes;
  std::vector<std::string> dtypes;
  std::vector<Type> inputTypes;
  bool finished = false;

  Impl() {
    DialectRegistry registry;
    mlir::flash::registerAllDialects(registry);
    ctx.appendDialectRegistry(registry);
    ctx.loadDialect<mlir::flash::FlashDialect, func::FuncDialect>();
    builder.setInsertionPointToEnd(body.get());
  }

  Location location(const SourceLocation &loc) {
    if (loc.file.empty())
      return builder.getUnknownLoc();
    return FileLineColLoc::get(&ctx, loc.file, loc.line, 0);
  }

  int add(Value v) {
    values.push_back(v);
    ArrayRef<int64_t> shape = cast<RankedTensorType>(v.getType()).getShape();
    shapes.emplace_back(shape.begin(), shape.end());
    Type element = cast<RankedTensorType>(v.getType()).getElementType();
    dtypes.push_back(element.isF32() ? "f32"
                     : element.isInteger(64) ? "i64"
                                             : "i32");
    return static_cast<int>(values.size()) - 1;
  }
};

/// Collects the diagnostics emitted while it lives into one string.
namespace {
class DiagnosticCollector {
public:
  DiagnosticCollector(MLIRContext &ctx, std::string &out)
      : handler(&ctx, [&out](Diagnostic &diag) {
          llvm::raw_string_ostream os(out);
          if (!out.empty())
            os << "\n";
          // "file:line: " as compilers print it (the column is unknown).
          if (auto loc = dyn_cast<FileLineColLoc>(diag.getLocation()))
            os << loc.getFilename().getValue() << ":" << loc.getLine() << ": ";
          else
            os << diag.getLocation() << ": ";
          os << diag;
          for (Diagnostic &note : diag.getNotes())
            os << "\n  note: " << note;
          return success();
        }) {}

private:
  ScopedDiagnosticHandler handler;
};
} // namespace

GraphBuilder::GraphBuilder() : impl(std::make_unique<Impl>()) {}
GraphBuilder::~GraphBuilder() = default;

int GraphBuilder::addInput(const std::vector<int64_t> &shape,
                           const std::string &dtype) {
  Type element = Float32Type::get(&impl->ctx);
  if (dtype == "i64" || dtype == "i32")
    element = IntegerType::get(&impl->ctx, dtype == "i64" ? 64 : 32);
  else if (dtype != "f32")
    return -1;
  Type type = RankedTensorType::get(shape, element);
  impl->inputTypes.push_back(type);
  return impl->add(
      impl->body->addArgument(type, impl->builder.getUnknownLoc()));
}

/// A flash.constant of `shape` holding `data`, with element type `element`.
template <typename T>
static Value constantOf(OpBuilder &builder, Location loc, Type element,
                        const T *data, const std::vector<int64_t> &shape) {
  auto type = RankedTensorType::get(shape, element);
  auto attr = DenseElementsAttr::get(
      type, llvm::ArrayRef<T>(data, type.getNumElements()));
  return mlir::flash::ConstantOp::create(builder, loc, attr);
}

int GraphBuilder::addConstant(const float *data,
                              const std::vector<int64_t> &shape,
                              const SourceLocation &loc) {
  return impl->add(constantOf(impl->builder, impl->location(loc),
                              Float32Type::get(&impl->ctx), data, shape));
}

int GraphBuilder::addConstant(const int64_t *data,
                              const std::vector<int64_t> &shape,
                              const SourceLocation &loc) {
  return impl->add(constantOf(impl->builder, impl->location(loc),
                              IntegerType::get(&impl->ctx, 64), data, shape));
}

int GraphBuilder::addOp(
    const std::string &name, const std::vector<int> &operands,
    const std::vector<std::pair<std::string, AttrValue>> &attrs,
    const SourceLocation &loc, std::string &error) {
  MLIRContext &ctx = impl->ctx;
  DiagnosticCollector collect(ctx, error);
  Location location = impl->location(loc);
  auto opName = RegisteredOperationName::lookup(name, &ctx);
  if (!opName) {
    emitError(location) << "unknown op '" << name << "'";
    return -1;
  }
  auto *inferType = opName->getInterface<InferTypeOpInterface>();
  if (!inferType) {
    emitError(location) << "'" << name << "' has no result-type inference";
    return -1;
  }
  OperationState state(location, *opName);
  for (int handle : operands) {
    if (handle < 0 || handle >= static_cast<int>(impl->values.size())) {
      emitError(location) << "'" << name << "': invalid operand handle "
                          << handle;
      return -1;
    }
    state.operands.push_back(impl->values[handle]);
  }
  Builder &b = impl->builder;
  ArrayRef<StringAttr> known = opName->getAttributeNames();
  llvm::StringSet<> seen;
  for (const auto &[key, value] : attrs) {
    // (A module with a key twice does not parse back; an attribute the op
    // does not define would be ignored without a word. Dialect-prefixed
    // ones, e.g. flash.sgemm, are discardable by design.)
    if (!seen.insert(key).second) {
      emitError(location) << "'" << name << "': attribute '" << key
                          << "' given twice";
      return -1;
    }
    if (key.find('.') == std::string::npos &&
        !llvm::is_contained(known, StringAttr::get(&ctx, key))) {
      emitError(location) << "'" << name << "' has no attribute '" << key
                          << "'";
      return -1;
    }
    Attribute attr;
    switch (value.kind) {
    case AttrValue::Kind::Int:
      attr = b.getI64IntegerAttr(value.i);
      break;
    case AttrValue::Kind::IntArray:
      attr = b.getDenseI64ArrayAttr(value.ints);
      break;
    case AttrValue::Kind::Bool:
      attr = b.getBoolAttr(value.i != 0);
      break;
    case AttrValue::Kind::Float:
      attr = b.getF32FloatAttr(static_cast<float>(value.f));
      break;
    }
    state.addAttribute(key, attr);
  }
  // Create the op first so its properties are populated from the attributes,
  // then infer the result types from the op itself, then verify it.
  state.addTypes(NoneType::get(&ctx));
  Operation *op = Operation::create(state);
  SmallVector<Type> resultTypes;
  if (failed(inferType->inferReturnTypes(
          &ctx, location, op->getOperands(), op->getRawDictionaryAttrs(),
          op->getPropertiesStorage(), op->getRegions(), resultTypes)) ||
      resultTypes.size() != 1) {
    op->destroy();
    if (error.empty())
      emitError(location) << "'" << name << "': cannot infer the result type";
    return -1;
  }
  op->getResult(0).setType(resultTypes[0]);
  impl->body->push_back(op);
  if (failed(verify(op))) {
    op->erase();
    return -1;
  }
  return impl->add(op->getResult(0));
}

std::vector<int64_t> GraphBuilder::shape(int value) const {
  return impl->shapes.at(value);
}

std::string GraphBuilder::dtype(int value) const {
  return impl->dtypes.at(value);
}

bool GraphBuilder::finished() const { return impl->finished; }

bool GraphBuilder::finish(const std::string &funcName,
                          const std::vector<int> &results,
                          std::string &error) {
  MLIRContext &ctx = impl->ctx;
  DiagnosticCollector collect(ctx, error);
  OpBuilder &b = impl->builder;
  Location loc = b.getUnknownLoc();
  SmallVector<Value> returned;
  SmallVector<Type> resultTypes;
  for (int handle : results) {
    returned.push_back(impl->values.at(handle));
    resultTypes.push_back(returned.back().getType());
  }
  func::ReturnOp::create(b, loc, returned);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  auto func = func::FuncOp::create(
      b, loc, funcName, b.getFunctionType(impl->inputTypes, resultTypes));
  func.getBody().push_back(impl->body.release());
  impl->finished = true;
  impl->values.clear(); // they belong to `module` now
  if (failed(verify(*module)))
    return false;
  impl->built->module = std::move(module);
  return true;
}

bool GraphBuilder::finish(const std::string &funcName,
                          const std::vector<int> &results,
                          std::string &moduleText, std::string &error,
                          bool bytecode) {
  if (!finish(funcName, results, error))
    return false;
  bool written = impl->built->write(moduleText, bytecode);
  impl->built->module = nullptr; // printed: not kept
  return written;
}

const BuiltModule *GraphBuilder::built() const {
  return impl->built && impl->built->module ? impl->built.get() : nullptr;
}

std::unique_ptr<BuiltModule> GraphBuilder::takeModule() {
  return built() ? std::move(impl->built) : nullptr;
}

bool BuiltModule::write(std::string &out, bool bytecode) const {
  ModuleOp op = module.get();
  llvm::raw_string_ostream os(out);
  if (bytecode)
    return succeeded(writeBytecodeToFile(op, os));
  op.print(os, OpPrintingFlags().enableDebugInfo(/*enable=*/true,
                                                 /*prettyForm=*/false));
  return true;
}
