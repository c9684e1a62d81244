//===- CompileCache.h - On-disk cache of compiled objects -------*- C++ -*-===//
//
// Compiled machine code keyed by everything that determines it: the Flash IR
// (as MLIR prints it without locations), the entry function, the pipeline options, the host CPU (name and
// features) and the compiler's own build id. A hit skips lowering and LLVM
// code generation. Entries are written atomically (temp file + rename), so
// concurrent processes can share a cache; an unreadable entry is a miss.
//
// Entries are machine code this process loads and runs, so the cache is
// guarded like one (docs/reliability.md): the folder is created owner-only
// (0700) and entries 0600; a folder others can write, or one another user
// owns, is not used at all; an entry another user owns, or others can
// write, is never loaded; each entry starts with a BLAKE3 digest of its object,
// checked before loading (a mismatch is a refused entry: recompiled and
// replaced). The folder is bounded: after each store the least recently
// used entries (by modification time, touched on every hit) are removed
// until the total is at most FLASH_CACHE_MAX_SIZE (bytes, or with a K, M or
// G suffix; default 2G).
//
// Location: folder(). FLASH_CACHE_DIR=off (or empty) disables the cache of
// compiled objects; the folder still holds the Python side's files.
//
//===----------------------------------------------------------------------===//
#ifndef FLASH_RUNTIME_COMPILECACHE_H
#define FLASH_RUNTIME_COMPILECACHE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
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
  /// Why the cache is disabled ("" when enabled, or switched off).
  const std::string &whyDisabled() const { return why; }
  /// The size limit in bytes (FLASH_CACHE_MAX_SIZE, default 2 GiB).
  static uint64_t maxBytes();
  /// The key of one compilation: the program's text and `data` (its large
  /// constants' bytes, hashed where they are rather than copied).
  static std::string key(const std::string &source, const std::string &entry,
                         const std::string &pipelineOptions,
                         llvm::ArrayRef<llvm::StringRef> data = {});
  /// The cached object for `key` (mapped, not copied), or null.
  std::unique_ptr<llvm::MemoryBuffer> load(const std::string &key) const;
  /// Stores an object, then evicts down to maxBytes(); failures are
  /// ignored (the cache is an optimization).
  void store(const std::string &key, const std::string &objectFile) const;
  /// Entries and their total size on disk.
  struct Usage {
    uint64_t entries = 0, bytes = 0;
  };
  Usage usage() const;
  /// Removes every entry; returns how many.
  uint64_t clear() const;
  /// Counters of this process, for tests and reports.
  static int hits();
  static int misses();
  /// Entries found but not loaded: foreign, writable by others, or whose
  /// checksum does not match their contents.
  static int refused();
  static void recordHit();
  static void recordMiss();

private:
  std::string directory;
  std::string why;
  std::string pathFor(const std::string &key) const;
  void evict() const;
};

} // namespace flash::runtime

#endif // FLASH_RUNTIME_COMPILECACHE_H
