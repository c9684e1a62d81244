//===- ThreadPool.cpp - The runtime's persistent worker threads -----------===//
//
// A fixed set of workers that each take task indices from a shared counter.
// Persistent threads keep a parallel call at a few microseconds instead of
// the ~50 us of spawning threads per call.
//
//===----------------------------------------------------------------------===//
#include "flash/Runtime/Ukernels.h"

#include <dlfcn.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

namespace {
/// What the OpenMP threads of one parallel call share.
struct MicrotaskShared {
  const std::function<void(int)> *fn;
  int tasks;
  std::atomic<int> next{0};
};

/// LLVM's OpenMP runtime, when the process has it loaded: the JIT loads it
/// for generated parallel loops, and AOT libraries with such loops link it.
/// Then the ukernels run on its threads too, through its entry points
/// (found with dlsym; the ABI that clang's OpenMP code calls): two thread
/// pools each spinning on 2 cores made whole models slower on two threads
/// than on one.
struct OpenMPRuntime {
  struct Ident {
    int32_t reserved1 = 0, flags = 2 /*KMP_IDENT_KMPC*/, reserved2 = 0,
            reserved3 = 0;
    const char *source = ";unknown;unknown;0;0;;";
  };
  using Microtask = void (*)(int32_t *, int32_t *, ...);
  void (*forkCall)(Ident *, int32_t, Microtask, ...) = nullptr;
  void (*pushNumThreads)(Ident *, int32_t, int32_t) = nullptr;
  int32_t (*globalThreadNum)(Ident *) = nullptr;

  /// The runtime if loaded by now (checked again on every call until it is:
  /// the JIT may load it after the first matmul).
  static OpenMPRuntime *find() {
    static OpenMPRuntime runtime;
    static std::atomic<bool> found{false};
    static const bool ownPool = std::getenv("FLASH_OWN_THREAD_POOL") != nullptr;
    if (found.load(std::memory_order_acquire))
      return &runtime;
    if (ownPool)
      return nullptr;
    auto *fork = dlsym(RTLD_DEFAULT, "__kmpc_fork_call");
    auto *push = dlsym(RTLD_DEFAULT, "__kmpc_push_num_threads");
    auto *gtid = dlsym(RTLD_DEFAULT, "__kmpc_global_thread_num");
    if (!fork || !push || !gtid)
      return nullptr;
    runtime.forkCall = reinterpret_cast<decltype(forkCall)>(fork);
    runtime.pushNumThreads = reinterpret_cast<decltype(pushNumThreads)>(push);
    runtime.globalThreadNum = reinterpret_cast<decltype(globalThreadNum)>(gtid);
    found.store(true, std::memory_order_release);
    return &runtime;
  }

  /// fn(0..tasks-1) on `threads` OpenMP threads, tasks taken dynamically.
  void run(int threads, int tasks, const std::function<void(int)> &fn) {
    MicrotaskShared shared{&fn, tasks};
    static Ident ident;
    pushNumThreads(&ident, globalThreadNum(&ident), threads);
    forkCall(&ident, 1, reinterpret_cast<Microtask>(&microtask), &shared);
  }

  static void microtask(int32_t *gtid, int32_t *btid, void *shared);
};

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

class ThreadPool {
public:
  static ThreadPool &get() {
    static ThreadPool pool;
    return pool;
  }

  void setThreads(int threads) {
    std::lock_guard<std::mutex> callLock(callMutex);
    stopWorkers();
    numThreads = std::max(1, threads);
    for (int i = 1; i < numThreads; ++i)
      workers.emplace_back([this] { workerLoop(); });
  }

  int threads() const { return numThreads; }

  void run(int tasks, const std::function<void(int)> &fn) {
    if (tasks <= 1 || numThreads == 1) {
      for (int i = 0; i < tasks; ++i)
        fn(i);
      return;
    }
    if (OpenMPRuntime *omp = OpenMPRuntime::find()) {
      omp->run(std::min(numThreads, tasks), tasks, fn);
      return;
    }
    std::lock_guard<std::mutex> callLock(callMutex);
    {
      std::lock_guard<std::mutex> lock(mutex);
      job = &fn;
      numTasks = tasks;
      next.store(0);
      pending = tasks;
      ++generation;
      publishedGeneration.store(generation, std::memory_order_release);
    }
    wake.notify_all();
    int finished = runTasks(&fn, tasks); // the calling thread helps
    std::unique_lock<std::mutex> lock(mutex);
    pending -= finished;
    // Wait for the workers too, so none still holds `fn` when we return.
    done.wait(lock, [&] { return pending == 0 && active == 0; });
    job = nullptr;
  }

  ~ThreadPool() { stopWorkers(); }

private:
  ThreadPool() {
    int threads = static_cast<int>(std::thread::hardware_concurrency());
    if (const char *env = std::getenv("FLASH_NUM_THREADS"))
      threads = std::atoi(env);
    setThreads(threads > 0 ? threads : 1);
  }

  int runTasks(const std::function<void(int)> *fn, int tasks) {
    int finished = 0;
    for (int i = next.fetch_add(1); i < tasks; i = next.fetch_add(1)) {
      (*fn)(i);
      ++finished;
    }
    return finished;
  }

  void workerLoop() {
    uint64_t seen = 0;
    while (true) {
      const std::function<void(int)> *fn;
      int tasks;
      // Poll briefly before sleeping: back-to-back parallel calls (layer
      // after layer) then start in well under a microsecond instead of a
      // futex wake-up of tens of microseconds.
      for (int spin = 0;
           spin < kSpinIterations &&
           publishedGeneration.load(std::memory_order_acquire) == seen;
           ++spin)
        cpuRelax();
      {
        std::unique_lock<std::mutex> lock(mutex);
        wake.wait(lock, [&] { return stopping || generation != seen; });
        if (stopping)
          return;
        seen = generation;
        if (!job)
          continue; // woke after that call already finished
        fn = job;
        tasks = numTasks;
        ++active;
      }
      int finished = runTasks(fn, tasks);
      std::lock_guard<std::mutex> lock(mutex);
      pending -= finished;
      --active;
      if (pending == 0 && active == 0)
        done.notify_all();
    }
  }

  void stopWorkers() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    wake.notify_all();
    for (auto &t : workers)
      t.join();
    workers.clear();
    stopping = false;
  }

  std::mutex callMutex; // one parallel call at a time
  std::mutex mutex;
  std::condition_variable wake, done;
  std::vector<std::thread> workers;
  const std::function<void(int)> *job = nullptr;
  std::atomic<int> next{0};
  int numTasks = 0, pending = 0, active = 0, numThreads = 1;
  uint64_t generation = 0;
  std::atomic<uint64_t> publishedGeneration{0}; // generation, for polling
  static constexpr int kSpinIterations = 20000; // ~100 us of pause instructions
  bool stopping = false;
};
} // namespace

void OpenMPRuntime::microtask(int32_t *gtid, int32_t *btid, void *shared) {
  auto *s = static_cast<MicrotaskShared *>(shared);
  for (int i = s->next.fetch_add(1); i < s->tasks; i = s->next.fetch_add(1))
    (*s->fn)(i);
}

void flash::runtime::setNumThreads(int threads) {
  ThreadPool::get().setThreads(threads);
  // The generated parallel loops run on LLVM's OpenMP runtime: tell it too
  // (now, if the JIT has loaded it, and through the environment otherwise).
  threads = std::max(1, threads);
  setenv("OMP_NUM_THREADS", std::to_string(threads).c_str(), 1);
  if (auto *ompSetNumThreads = reinterpret_cast<void (*)(int)>(
          dlsym(RTLD_DEFAULT, "omp_set_num_threads")))
    ompSetNumThreads(threads);
}
int flash::runtime::getNumThreads() { return ThreadPool::get().threads(); }
namespace {
thread_local int parallelDepth = 0; // parallelFor calls this thread is in
} // namespace

void flash::runtime::parallelFor(int tasks,
                                 const std::function<void(int)> &fn) {
  ++parallelDepth;
  ThreadPool::get().run(tasks, fn);
  --parallelDepth;
}

bool flash::runtime::inParallelRegion() {
  if (parallelDepth > 0)
    return true;
  // Generated parallel loops fork through LLVM's OpenMP runtime, if loaded
  // (looked up now: this is asked only when an allocation failed).
  auto *level =
      reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "omp_get_level"));
  return level && level() > 0;
}
