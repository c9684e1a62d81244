//===- CompileCache.cpp - On-disk cache of compiled objects ---------------===//
#include "flash/Runtime/CompileCache.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <vector>

using namespace ::flash::runtime;

namespace {
std::atomic<int> hitCount{0}, missCount{0};
} // namespace

std::string CompileCache::folder() {
  llvm::SmallString<256> dir;
  const char *env = std::getenv("FLASH_CACHE_DIR");
  if (env && *env && llvm::StringRef(env) != "off") {
    dir = env;
  } else if (const char *xdg = std::getenv("XDG_CACHE_HOME")) {
    dir = xdg;
    llvm::sys::path::append(dir, "flashcompile");
  } else if (const char *home = std::getenv("HOME")) {
    dir = home;
    llvm::sys::path::append(dir, ".cache", "flashcompile");
  }
  return dir.str().str();
}

CompileCache CompileCache::fromEnvironment() {
  CompileCache cache;
  const char *env = std::getenv("FLASH_CACHE_DIR");
  if (env && (!*env || llvm::StringRef(env) == "off"))
    return cache;
  std::string dir = folder();
  if (dir.empty() || llvm::sys::fs::create_directories(dir))
    return cache; // not writable: no cache
  cache.directory = dir;
  return cache;
}

std::string CompileCache::key(const std::string &source,
                              const std::string &entry,
                              const std::string &pipelineOptions) {
  llvm::SHA256 hash;
  auto field = [&](llvm::StringRef text) {
    hash.update(text);
    hash.update(llvm::StringRef("\0", 1));
  };
  field(buildId());
  field(llvm::sys::getHostCPUName());
  std::vector<std::string> features;
  for (const auto &feature : llvm::sys::getHostCPUFeatures())
    features.push_back((feature.getValue() ? "+" : "-") +
                       feature.getKey().str());
  std::sort(features.begin(), features.end()); // map order is not stable
  for (const auto &feature : features)
    field(feature);
  field(entry);
  field(pipelineOptions);
  field(source);
  return llvm::toHex(hash.final(), /*LowerCase=*/true);
}

std::string CompileCache::pathFor(const std::string &key) const {
  llvm::SmallString<256> path(directory);
  llvm::sys::path::append(path, key + ".o");
  return path.str().str();
}

std::unique_ptr<llvm::MemoryBuffer>
CompileCache::load(const std::string &key) const {
  if (!enabled())
    return nullptr;
  auto buffer = llvm::MemoryBuffer::getFile(pathFor(key));
  if (!buffer || (*buffer)->getBufferSize() == 0)
    return nullptr;
  return std::move(*buffer);
}

void CompileCache::store(const std::string &key,
                         const std::string &objectFile) const {
  if (!enabled())
    return;
  std::string path = pathFor(key);
  llvm::SmallString<256> temp;
  int fd;
  if (llvm::sys::fs::createUniqueFile(path + ".tmp-%%%%%%", fd, temp))
    return;
  {
    llvm::raw_fd_ostream out(fd, /*shouldClose=*/true);
    out << objectFile;
    if (out.has_error()) {
      out.clear_error();
      llvm::sys::fs::remove(temp);
      return;
    }
  }
  if (llvm::sys::fs::rename(temp, path))
    llvm::sys::fs::remove(temp);
}

int CompileCache::hits() { return hitCount; }
int CompileCache::misses() { return missCount; }
void CompileCache::recordHit() { ++hitCount; }
void CompileCache::recordMiss() { ++missCount; }
