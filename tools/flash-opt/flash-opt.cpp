//===- flash-opt.cpp - mlir-opt with the Flash dialect and pipelines ------===//
#include "flash/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

int main(int argc, char **argv) {
  llvm::cl::AddExtraVersionPrinter([](llvm::raw_ostream &os) {
    os << "FlashCompile " FLASH_VERSION "\n";
  });
  mlir::flash::registerAllPasses();
  mlir::DialectRegistry registry;
  mlir::flash::registerAllDialects(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "FlashCompile optimizer driver\n", registry));
}
