//===- CompileCache.h - On-disk cache of compiled objects -------*- C++ -*-===//
//
// Compiled machine code keyed by everything that determines it: the Flash IR
// (as MLIR prints it without locations), the entry function, the pipeline options, the host CPU (name and
// features) and the compiler's own build id. A hit skips lowering and LLVM
// code generation. Entries are written atomically (temp file + rename), so
// concurrent processes can share a cache; an unreadable entry is a miss.
//
// Location: folder(). FLASH_CACHE_DIR=off (or empty) disables the cache of
// compiled objects; the folder still holds the Python side's files.
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_RUNTIME_COMPILECACHE_H
#define FLASH_RUNTIME_COMPILECACHE_H

#include <memory>
#include <string>

namespace llvm {
class MemoryBuffer;
} // namespace llvm

namespace flash::runtime {

/// SHA-256 of the compiler's sources (generated at build time).
const char *buildId();

class CompileCache {
public:
  /// The one rule for where FlashCompile keeps its files (compiled
  /// objects, the tuning database, the host's calibration): $FLASH_CACHE_DIR,
  /// else $XDG_CACHE_HOME/flashcompile, else ~/.cache/flashcompile ("" when
  /// there is no home). FLASH_CACHE_DIR=off does not change the folder.
  static std::string folder();
  /// The cache in folder(), or a disabled one.
  static CompileCache fromEnvironment();

  bool enabled() const { return !directory.empty(); }
  /// The key of one compilation.
  static std::string key(const std::string &source, const std::string &entry,
                         const std::string &pipelineOptions);
  /// The cached object for `key`, or null.
  std::unique_ptr<llvm::MemoryBuffer> load(const std::string &key) const;
  /// Stores an object; failures are ignored (the cache is an optimization).
  void store(const std::string &key, const std::string &objectFile) const;
  /// Counters of this process, for tests and reports.
  static int hits();
  static int misses();
  static void recordHit();
  static void recordMiss();

private:
  std::string directory;
  std::string pathFor(const std::string &key) const;
};

} // namespace flash::runtime

#endif // FLASH_RUNTIME_COMPILECACHE_H
