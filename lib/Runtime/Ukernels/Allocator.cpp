//===- Allocator.cpp - Reused buffers for the generated code's temporaries ===//
//
// Generated code allocates its temporaries (im2col patches, intermediate
// activations) on every call. With plain malloc, blocks above glibc's mmap
// threshold are mmapped and unmapped each call, and every call pays page
// faults to zero fresh pages, which made a whole-model call 1.5-3x slower
// and its time depend on the process's malloc history. The pipeline lowers
// memref.alloc/dealloc to MLIR's generic allocation functions
// (`use-generic-functions`), defined here: freed blocks are kept, up to a
// cap, and handed out again, like the arenas of other runtimes. A request
// takes the most recently freed block that holds it without wasting half
// of it, whatever size that block was made for: with early deallocation
// that is usually memory an op just read, still in cache, so the next
// op's output is written into cached lines (an exact-size cache handed
// blocks last used a whole call earlier: writing a depthwise layer's
// output into them cost 50-70 us of MobileNetV2's 144x56x56 layer).
// An allocation that fails leaves the compiled call through
// runCatchingOutOfMemory (an error, not a crash; Ukernels.h).
//
//===----------------------------------------------------------------------===//
#include "flash/Runtime/Ukernels.h"

#include <algorithm>
#include <csetjmp>
#include <cstring>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <mutex>
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

/// A compiled call in progress on this thread (runCatchingOutOfMemory):
/// where to jump back to, and the blocks it holds, to give back if it must
/// be left.
struct CallGuard {
  std::jmp_buf resume;
  std::vector<void *> live; // few, and freed mostly last-in first-out
  size_t failedBytes = 0;

  void forget(void *block) {
    for (size_t i = live.size(); i-- > 0;)
      if (live[i] == block) {
        live[i] = live.back();
        live.pop_back();
        return;
      }
  }
};
thread_local CallGuard *activeCall = nullptr;
/// Guards of finished calls, reused: a call then allocates nothing for it.
thread_local std::vector<std::unique_ptr<CallGuard>> spareGuards;

class BlockCache {
public:
  static BlockCache &get() {
    static BlockCache *cache = new BlockCache(); // never destroyed: code may
    return *cache;                               // free during exit
  }

  void *allocate(size_t alignment, size_t size) {
    if (alignment < kDefaultAlignment)
      alignment = kDefaultAlignment;
    if (size > std::numeric_limits<size_t>::max() / 2 - alignment)
      flash::runtime::outOfMemory(size); // no machine has half the space
    // Whole pages; a cached block up to twice that is taken (allocate).
    size_t capacity = (size + sizeof(Header) + alignment + 4095) & ~size_t(4095);
    void *raw = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex);
      // The most recently freed block that fits without wasting half.
      for (size_t i = freed.size(); i-- > 0;) {
        size_t have = freed[i].capacity;
        if (have >= capacity && have <= 2 * capacity) {
          raw = freed[i].raw;
          capacity = have;
          freed.erase(freed.begin() + static_cast<std::ptrdiff_t>(i));
          cachedBytes -= have;
          break;
        }
      }
    }
    if (!raw)
      raw = std::malloc(capacity);
    if (!raw)
      flash::runtime::outOfMemory(size); // (no lock held here)
    void *block = place(raw, capacity, alignment);
    if (activeCall)
      activeCall->live.push_back(block);
    return block;
  }

  void release(void *ptr) {
    if (!ptr)
      return;
    if (activeCall)
      activeCall->forget(ptr);
    Header header = reinterpret_cast<Header *>(ptr)[-1];
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (cachedBytes + header.capacity <= kMaxCachedBytes) {
        freed.push_back(header);
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
  std::vector<Header> freed; // cached blocks, the most recently freed last
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

void flash::runtime::outOfMemory(size_t bytes) {
  if (activeCall && !inParallelRegion()) {
    activeCall->failedBytes = bytes;
    std::longjmp(activeCall->resume, 1);
  }
  std::fprintf(stderr,
               "flashcompile: out of memory: compiled code could not "
               "allocate %zu bytes %s\n",
               bytes,
               activeCall ? "inside a parallel loop"
                          : "on a thread outside a compiled call");
  std::abort();
}

/// fn(args) with a place for outOfMemory to jump back to. A frame of its
/// own holding only plain pointers: no local changes between setjmp and
/// the jump, so none has an indeterminate value after it.
[[gnu::noinline]] static bool callGuarded(CallGuard *call, void (*fn)(void **),
                                          void **args) {
  if (setjmp(call->resume) == 0) {
    fn(args);
    return true;
  }
  return false;
}

bool flash::runtime::runCatchingOutOfMemory(void (*fn)(void **), void **args,
                                            std::string &error) {
  std::unique_ptr<CallGuard> guard;
  if (spareGuards.empty()) {
    guard = std::make_unique<CallGuard>();
  } else {
    guard = std::move(spareGuards.back());
    spareGuards.pop_back();
  }
  CallGuard *outer = activeCall;
  activeCall = guard.get();
  bool ran = callGuarded(guard.get(), fn, args);
  activeCall = outer;
  if (!ran) {
    for (void *block : guard->live) // the temporaries the call had taken
      BlockCache::get().release(block);
    error = "out of memory: the compiled code could not allocate " +
            std::to_string(guard->failedBytes) + " bytes for a temporary";
  }
  guard->live.clear();
  spareGuards.push_back(std::move(guard));
  return ran;
}

/// The C form for ahead-of-time libraries (aot.py's `<name>_checked`): 0 when
/// the call ran; else -1 with the message in `error` (NUL-terminated, cut to
/// `size`).
extern "C" int flash_call_catching_out_of_memory(void (*fn)(void **),
                                                 void **args, char *error,
                                                 size_t size) {
  std::string message;
  if (flash::runtime::runCatchingOutOfMemory(fn, args, message))
    return 0;
  if (error && size) {
    size_t n = std::min(size - 1, message.size());
    std::memcpy(error, message.data(), n);
    error[n] = '\0';
  }
  return -1;
}
