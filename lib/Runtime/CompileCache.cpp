//===- CompileCache.cpp - On-disk cache of compiled objects ---------------===//
#include "flash/Runtime/CompileCache.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/BLAKE3.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <tuple>
#include <vector>

#include <unistd.h>
#include <utime.h>

using namespace ::flash::runtime;
namespace fs = llvm::sys::fs;

namespace {
std::atomic<int> hitCount{0}, missCount{0}, refusedCount{0};

/// An entry: this line, the object's BLAKE3 (256 bits) in hex, spaces up
/// to kHeader and a newline, then the object file, so that a hit maps the
/// file and hands the JIT the object in place (an ELF object must be
/// 8-byte aligned), not a copy. BLAKE3, not SHA-256: a cache hit hashes
/// the whole program (weights included, ~45 MB for ResNet-18), and LLVM's
/// SHA-256 spent a third of a hit's time on it; BLAKE3 is as collision
/// resistant and several times faster.
constexpr llvm::StringLiteral kMagic = "flash-cache-entry-3\n";
constexpr size_t kHeader = 128;
constexpr size_t kPadding = kHeader - kMagic.size() - 64 - 1; // spaces
static_assert(kMagic.size() + 64 + 1 <= kHeader && kHeader % 16 == 0);

/// The object part of a mapped entry, owning the mapping.
class ObjectInEntry : public llvm::MemoryBuffer {
public:
  ObjectInEntry(std::unique_ptr<llvm::MemoryBuffer> file)
      : file(std::move(file)) {
    llvm::StringRef object = this->file->getBuffer().drop_front(kHeader);
    init(object.begin(), object.end(), /*RequiresNullTerminator=*/false);
  }
  BufferKind getBufferKind() const override {
    return file->getBufferKind();
  }
  llvm::StringRef getBufferIdentifier() const override {
    return file->getBufferIdentifier();
  }

private:
  std::unique_ptr<llvm::MemoryBuffer> file;
};

std::string digestHex(llvm::StringRef data) {
  llvm::BLAKE3 hash;
  hash.update(data);
  return llvm::toHex(hash.final(), /*LowerCase=*/true);
}

/// Why a file or folder must not be trusted ("" when it may be): another
/// user owns it, or users other than its owner may write it.
std::string untrusted(const fs::file_status &status) {
  if (status.getUser() != ::geteuid())
    return "owned by user " + std::to_string(status.getUser()) +
           ", not by this user (" + std::to_string(::geteuid()) + ")";
  if (status.permissions() & (fs::group_write | fs::others_write))
    return "writable by other users";
  return "";
}
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
  // Created owner-only; an existing folder keeps its permissions.
  if (dir.empty() || fs::create_directories(dir, /*IgnoreExisting=*/true,
                                            fs::owner_all)) {
    cache.why = "the folder " + dir + " cannot be created";
    return cache;
  }
  fs::file_status status;
  if (fs::status(dir, status) || !fs::is_directory(status)) {
    cache.why = dir + " is not a folder";
    return cache;
  }
  if (std::string reason = untrusted(status); !reason.empty()) {
    cache.why = "the folder " + dir + " is " + reason +
                ": compiled code is never loaded from it";
    return cache;
  }
  cache.directory = dir;
  return cache;
}

uint64_t CompileCache::maxBytes() {
  constexpr uint64_t kDefault = uint64_t(2) << 30;
  const char *env = std::getenv("FLASH_CACHE_MAX_SIZE");
  if (!env || !*env)
    return kDefault;
  llvm::StringRef text(env);
  uint64_t scale = 1;
  switch (text.back()) {
  case 'k': case 'K': scale = uint64_t(1) << 10; break;
  case 'm': case 'M': scale = uint64_t(1) << 20; break;
  case 'g': case 'G': scale = uint64_t(1) << 30; break;
  default: break;
  }
  if (scale != 1)
    text = text.drop_back();
  uint64_t value;
  if (text.getAsInteger(10, value) || value > UINT64_MAX / scale)
    return kDefault; // not a size: the default (`flashcompile cache` shows the limit)
  return value * scale;
}

std::string CompileCache::key(const std::string &source,
                              const std::string &entry,
                              const std::string &pipelineOptions,
                              llvm::ArrayRef<llvm::StringRef> data) {
  llvm::BLAKE3 hash;
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
  for (llvm::StringRef bytes : data)
    field(bytes);
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
  std::string path = pathFor(key);
  fs::file_status status;
  if (fs::status(path, status) || !fs::is_regular_file(status))
    return nullptr;
  if (!untrusted(status).empty()) {
    ++refusedCount;
    return nullptr;
  }
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return nullptr;
  llvm::StringRef data = (*buffer)->getBuffer();
  if (data.size() <= kHeader || !data.starts_with(kMagic) ||
      data.substr(kMagic.size(), 64) != digestHex(data.drop_front(kHeader))) {
    ++refusedCount; // truncated, tampered with or from another format
    fs::remove(path);
    return nullptr;
  }
  ::utime(path.c_str(), nullptr); // used now: the last to be evicted
  return std::make_unique<ObjectInEntry>(std::move(*buffer));
}

void CompileCache::store(const std::string &key,
                         const std::string &objectFile) const {
  if (!enabled())
    return;
  std::string path = pathFor(key);
  llvm::SmallString<256> temp;
  int fd;
  if (fs::createUniqueFile(path + ".tmp-%%%%%%", fd, temp, fs::OF_None,
                           fs::owner_read | fs::owner_write))
    return;
  {
    llvm::raw_fd_ostream out(fd, /*shouldClose=*/true);
    out << kMagic << digestHex(objectFile)
        << std::string(kPadding, ' ') << "\n"
        << objectFile;
    // Closed here, not at scope exit: the last buffer is written at close,
    // and an unchecked error there (a full disk) is a fatal LLVM error that
    // ends the whole process. A store that fails only skips the cache.
    out.close();
    if (out.has_error()) {
      out.clear_error();
      fs::remove(temp);
      return;
    }
  }
  if (fs::rename(temp, path)) {
    fs::remove(temp);
    return;
  }
  evict();
}

namespace {
struct Entry {
  llvm::sys::TimePoint<> used;
  uint64_t bytes;
  std::string path;
};

std::vector<Entry> entriesIn(const std::string &directory) {
  std::vector<Entry> entries;
  std::error_code ec;
  for (fs::directory_iterator it(directory, ec), end; it != end && !ec;
       it.increment(ec)) {
    if (llvm::sys::path::extension(it->path()) != ".o")
      continue;
    fs::file_status status;
    if (!fs::status(it->path(), status) && fs::is_regular_file(status))
      entries.push_back(
          {status.getLastModificationTime(), status.getSize(), it->path()});
  }
  return entries;
}
} // namespace

void CompileCache::evict() const {
  std::vector<Entry> entries = entriesIn(directory);
  uint64_t total = 0;
  for (const Entry &e : entries)
    total += e.bytes;
  uint64_t limit = maxBytes();
  if (total <= limit)
    return;
  std::sort(entries.begin(), entries.end(), [](const Entry &a, const Entry &b) {
    return std::tie(a.used, a.path) < std::tie(b.used, b.path);
  });
  for (const Entry &e : entries) {
    if (total <= limit)
      break;
    if (!fs::remove(e.path)) // another process may have removed it first
      total -= e.bytes;
  }
}

CompileCache::Usage CompileCache::usage() const {
  Usage u;
  if (!enabled())
    return u;
  for (const Entry &e : entriesIn(directory)) {
    ++u.entries;
    u.bytes += e.bytes;
  }
  return u;
}

uint64_t CompileCache::clear() const {
  uint64_t removed = 0;
  if (!enabled())
    return removed;
  for (const Entry &e : entriesIn(directory))
    removed += !fs::remove(e.path);
  return removed;
}

int CompileCache::hits() { return hitCount; }
int CompileCache::misses() { return missCount; }
int CompileCache::refused() { return refusedCount; }
void CompileCache::recordHit() { ++hitCount; }
void CompileCache::recordMiss() { ++missCount; }
