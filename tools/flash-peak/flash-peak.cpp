//===- flash-peak.cpp - Measure the host's FMA peak and memory bandwidth --===//
//
// Prints JSON with the single-core and all-core FP32 FMA throughput (AVX2
// and, where the CPU has it, AVX-512), the STREAM-triad bandwidth and a
// read-only stream's for several working-set sizes. The benchmarks use it
// for "fraction of peak", the simulator's host calibration for its rates.
//
// Hand-written intrinsics on purpose: the point is to measure the machine,
// not a compiler.
//
//===----------------------------------------------------------------------===//
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {
double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// 12 independent FMA chains hide the FMA latency on 2 pipes.
__attribute__((target("avx2,fma"))) double fmaLoopAvx2(long iters) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i)
    acc[i] = _mm256_set1_ps(1.0f + i * 1e-3f);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < iters; ++it)
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i)
      acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  __m256 s = acc[0];
  for (int i = 1; i < 12; ++i)
    s = _mm256_add_ps(s, acc[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0];
}

/// 24 chains in 24 of the 32 zmm registers. The inner loop must be fully
/// unrolled: left as a loop, GCC keeps acc[] on the stack and the chains
/// wait on store-to-load forwarding (measured: 80 instead of ~200 GFLOP/s
/// on one Xeon core).
__attribute__((target("avx512f"))) double fmaLoopAvx512(long iters) {
  __m512 acc[24];
  for (int i = 0; i < 24; ++i)
    acc[i] = _mm512_set1_ps(1.0f + i * 1e-3f);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < iters; ++it)
#pragma GCC unroll 24
    for (int i = 0; i < 24; ++i)
      acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  __m512 s = acc[0];
  for (int i = 1; i < 24; ++i)
    s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}

/// One core's clock under load, in GHz: a chain of dependent register
/// adds retires one add per cycle on every x86 core (register operands,
/// not immediates, which some renamers fold), so adds per second are
/// cycles per second. The simulator counts some costs in cycles; the FMA
/// peak is no clock (Zen 4 runs a 512-bit FMA as two 256-bit halves).
double measureClockGhz() {
  long iters = 50'000'000;
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    unsigned long x = 0, one = 1;
    double start = now();
    for (long i = 0; i < iters; ++i)
      asm volatile("add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\t"
                   "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0"
                   : "+r"(x)
                   : "r"(one));
    double seconds = now() - start;
    best = std::max(best, 8.0 * iters / seconds / 1e9);
  }
  return best;
}

/// GFLOP/s of `threads` threads each running `loop`; best of 3.
double measureFma(int threads, bool avx512) {
  long iters = 20'000'000;
  double flopsPerIter = avx512 ? 24 * 16 * 2 : 12 * 8 * 2;
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    std::atomic<double> sink{0};
    double start = now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&] {
        double r = avx512 ? fmaLoopAvx512(iters) : fmaLoopAvx2(iters);
        double expected = sink.load();
        sink.compare_exchange_strong(expected, expected + r);
      });
    for (auto &t : pool)
      t.join();
    double seconds = now() - start;
    best = std::max(best, threads * iters * flopsPerIter / seconds / 1e9);
  }
  return best;
}

/// STREAM triad a = b + s * c over `bytes` of working set: each thread
/// sweeps its slice `reps` times; bytes moved / wall time.
double measureTriad(size_t bytes, int threads) {
  size_t n = bytes / (3 * sizeof(float));
  std::vector<float> a(n, 0), b(n, 1), c(n, 2);
  int reps = std::max<int>(3, static_cast<int>((4ull << 30) / bytes));
  double best = 0;
  for (int trial = 0; trial < 3; ++trial) {
    double start = now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        size_t lo = n * t / threads, hi = n * (t + 1) / threads;
        for (int rep = 0; rep < reps; ++rep) {
          for (size_t i = lo; i < hi; ++i)
            a[i] = b[i] + 3.0f * c[i];
          asm volatile("" ::: "memory"); // keep every sweep
        }
      });
    for (auto &t : pool)
      t.join();
    double seconds = now() - start;
    best = std::max(best, 3.0 * n * sizeof(float) * reps / seconds / 1e9);
  }
  if (a[n / 2] != 7.0f)
    std::abort();
  return best;
}
/// A read-only stream: each thread sums its slice `reps` times with 256-bit
/// loads (the width of the compiled loops) into eight accumulators (two
/// loads a cycle through the add latency); bytes
/// read / wall time. Beside the triad it separates what a written byte
/// costs (write-allocate or not) from a read one.
__attribute__((target("avx2,fma"))) float sumSlice(const float *x, size_t n) {
  __m256 acc[8];
  for (auto &a : acc)
    a = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 64 <= n; i += 64)
#pragma GCC unroll 8
    for (int q = 0; q < 8; ++q)
      acc[q] = _mm256_add_ps(acc[q], _mm256_loadu_ps(x + i + 8 * q));
  for (int q = 1; q < 8; ++q)
    acc[0] = _mm256_add_ps(acc[0], acc[q]);
  float out[8];
  _mm256_storeu_ps(out, acc[0]);
  float total = 0;
  for (float v : out)
    total += v;
  for (; i < n; ++i)
    total += x[i];
  return total;
}

double measureRead(size_t bytes, int threads) {
  size_t n = bytes / sizeof(float);
  std::vector<float> x(n, 1.0f);
  int reps = std::max<int>(3, static_cast<int>((4ull << 30) / bytes));
  double best = 0;
  for (int trial = 0; trial < 3; ++trial) {
    std::atomic<double> sink{0};
    double start = now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        size_t lo = n * t / threads, hi = n * (t + 1) / threads;
        float total = 0;
        for (int rep = 0; rep < reps; ++rep) {
          total += sumSlice(x.data() + lo, hi - lo);
          asm volatile("" ::: "memory"); // keep every sweep
        }
        double expected = sink.load();
        sink.compare_exchange_strong(expected, expected + total);
      });
    for (auto &t : pool)
      t.join();
    double seconds = now() - start;
    best = std::max(best, n * sizeof(float) * double(reps) / seconds / 1e9);
    if (sink.load() <= 0)
      std::abort();
  }
  return best;
}
} // namespace

int main() {
  int cores = static_cast<int>(std::thread::hardware_concurrency());
  bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  bool avx512 = __builtin_cpu_supports("avx512f");
  std::printf("{\n  \"cores\": %d,\n  \"avx2\": %s,\n  \"avx512\": %s,\n",
              cores, avx2 ? "true" : "false", avx512 ? "true" : "false");
  std::printf("  \"clock_ghz_1thread\": %.3f,\n", measureClockGhz());
  if (avx2)
    std::printf("  \"fma_gflops_avx2_1thread\": %.1f,\n"
                "  \"fma_gflops_avx2_allthreads\": %.1f,\n",
                measureFma(1, false), measureFma(cores, false));
  if (avx512)
    std::printf("  \"fma_gflops_avx512_1thread\": %.1f,\n"
                "  \"fma_gflops_avx512_allthreads\": %.1f,\n",
                measureFma(1, true), measureFma(cores, true));
  std::printf("  \"triad_gbs\": {");
  const char *sep = "";
  for (size_t kb : {64, 1024, 16384, 65536, 262144}) {
    std::printf("%s\"%zuKiB_1thread\": %.1f, \"%zuKiB_allthreads\": %.1f", sep,
                kb, measureTriad(kb * 1024, 1), kb,
                measureTriad(kb * 1024, cores));
    sep = ", ";
  }
  std::printf("},\n  \"read_gbs\": {");
  sep = "";
  if (avx2)
    for (size_t kb : {64, 1024, 16384, 65536, 262144}) {
      std::printf("%s\"%zuKiB_1thread\": %.1f, \"%zuKiB_allthreads\": %.1f",
                  sep, kb, measureRead(kb * 1024, 1), kb,
                  measureRead(kb * 1024, cores));
      sep = ", ";
    }
  std::printf("}\n}\n");
  return 0;
}
