//===- Allocator.cpp - Reused buffers for the generated code's temporaries ===//
//
// Generated code allocates its temporaries (im2col patches, intermediate
// activations) on every call. With plain malloc, blocks above glibc's mmap
// threshold are mmapped and unmapped each call, and every call pays page
// faults to zero fresh pages, which made a whole-model call 1.5-3x slower
// and its time depend on the process's malloc history. The pipeline lowers
// memref.alloc/dealloc to MLIR's generic allocation functions
// (`use-generic-functions`), defined here: freed blocks are kept per size
// and handed out again, up to a cap, like the arenas of other runtimes.
//
//===----------------------------------------------------------------------===//
#include "flash/Runtime/Ukernels.h"

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace {
/// Bytes before every block's aligned address: the raw pointer and the
/// block's capacity.
struct Header {
  void *raw;
  size_t capacity;
};
constexpr size_t kDefaultAlignment = 64;      // a cache line, AVX-512 width
constexpr size_t kMaxCachedBytes = 1ull << 30; // beyond this, free for real

class BlockCache {
public:
  static BlockCache &get() {
    static BlockCache *cache = new BlockCache(); // never destroyed: code may
    return *cache;                               // free during exit
  }

  void *allocate(size_t alignment, size_t size) {
    if (alignment < kDefaultAlignment)
      alignment = kDefaultAlignment;
    // Round up so blocks of nearby sizes are shared.
    size_t capacity = (size + sizeof(Header) + alignment + 4095) & ~size_t(4095);
    {
      std::lock_guard<std::mutex> lock(mutex);
      auto it = free.find(capacity);
      if (it != free.end() && !it->second.empty()) {
        void *raw = it->second.back();
        it->second.pop_back();
        cachedBytes -= capacity;
        return place(raw, capacity, alignment);
      }
    }
    void *raw = std::malloc(capacity);
    return raw ? place(raw, capacity, alignment) : nullptr;
  }

  void release(void *ptr) {
    if (!ptr)
      return;
    Header header = reinterpret_cast<Header *>(ptr)[-1];
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (cachedBytes + header.capacity <= kMaxCachedBytes) {
        free[header.capacity].push_back(header.raw);
        cachedBytes += header.capacity;
        return;
      }
    }
    std::free(header.raw);
  }

private:
  static void *place(void *raw, size_t capacity, size_t alignment) {
    uintptr_t start = reinterpret_cast<uintptr_t>(raw) + sizeof(Header);
    uintptr_t aligned = (start + alignment - 1) & ~(uintptr_t(alignment) - 1);
    reinterpret_cast<Header *>(aligned)[-1] = {raw, capacity};
    return reinterpret_cast<void *>(aligned);
  }

  std::mutex mutex;
  std::unordered_map<size_t, std::vector<void *>> free;
  size_t cachedBytes = 0;
};
} // namespace

extern "C" {
void *_mlir_memref_to_llvm_alloc(size_t size) {
  return BlockCache::get().allocate(kDefaultAlignment, size);
}
void *_mlir_memref_to_llvm_aligned_alloc(size_t alignment, size_t size) {
  return BlockCache::get().allocate(alignment, size);
}
void _mlir_memref_to_llvm_free(void *ptr) { BlockCache::get().release(ptr); }
}
