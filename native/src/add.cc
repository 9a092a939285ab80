// Add on every core for the cases a PixelCNN training step runs over whole feature maps: same-shape adds
// (tfjs's backprop accumulates the gradient of a tensor used twice with Add; residual and link adds), the bias
// broadcast [N, H, W, C] + [C] and a conditional layer's per-image [N, H, W, C] + [N, 1, 1, C]. The wasm
// backend's Add is SIMD but single-threaded; other broadcasts and dtypes stay there (lib/backend/native-eltwise.ts
// decides).
#include "common.h"
#include <algorithm>
#include <cstdint>
#include <omp.h>
#include <vector>

namespace pixel {

namespace {

// As in gate.cc: the clones hold no OpenMP region (an outlined parallel body would not be cloned).
#define PIXEL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

PIXEL_CLONES void addFlat(const float* __restrict a, const float* __restrict b, float* __restrict o, int64_t n) {
  for (int64_t i = 0; i < n; i++) o[i] = a[i] + b[i];
}

// Below this many elements one thread is faster than waking the others (a [60] bias, a 3x5x30x60 filter).
constexpr int64_t kParallelMin = 1 << 15;

// Calls body(from, to) on contiguous ranges of [0, n) whose bounds are multiples of `align`, one per thread.
template <typename F>
void forRanges(int64_t n, int64_t align, F body) {
  const int threads = n < kParallelMin ? 1 : omp_get_max_threads();
  const int64_t units = (n + align - 1) / align;
#pragma omp parallel num_threads(threads)
  {
    const int64_t t = omp_get_thread_num(), k = omp_get_num_threads();
    const int64_t from = std::min(n, units * t / k * align), to = std::min(n, units * (t + 1) / k * align);
    if (from < to) body(from, to);
  }
}

// add(a, b, out, inner): out = a + b, a and out of one length n; b is `outer` rows of `inner` floats (outer from
// b's length), each repeated over its block of a: out[(o * middle + m) * inner + i] = a[...] + b[o * inner + i],
// middle = n / (outer * inner). b's length == n: same shapes; outer 1: a trailing broadcast such as a [C] bias;
// outer N: a per-image [N, 1, 1, C] bias over [N, H, W, C].
Napi::Value Add(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32View a = f32Arg(info, 0, "a"), b = f32Arg(info, 1, "b"), out = f32Arg(info, 2, "out");
  requireLength(env, out, a.length, "Add", "out");
  const int64_t n = static_cast<int64_t>(a.length), w = info[3].As<Napi::Number>().Int64Value();
  const int64_t bLength = static_cast<int64_t>(b.length);
  if (w <= 0 || bLength % w != 0 || bLength == 0 || n % bLength != 0) {
    throw Napi::RangeError::New(env, "pixel_native Add: b has " + std::to_string(bLength) + " elements, which must be a multiple of inner " +
                                         std::to_string(w) + " and divide a's " + std::to_string(n));
  }
  if (n == bLength) {
    forRanges(n, 16, [&](int64_t from, int64_t to) { addFlat(a.data + from, b.data + from, out.data + from, to - from); });
    return env.Undefined();
  }
  const int64_t outer = bLength / w;
  if (outer > 1) {
    // Rows of `inner` floats, each plus its slice's row of b; thread ranges on row boundaries.
    const int64_t rowsPerSlice = n / bLength;
    forRanges(n, w, [&](int64_t from, int64_t to) {
      for (int64_t p = from; p < to; p += w) addFlat(a.data + p, b.data + (p / w / rowsPerSlice) * w, out.data + p, w);
    });
    return env.Undefined();
  }
  // A bias of a few dozen channels: a loop over one row would run one vector and a scalar tail. b is tiled
  // into a period of w * 16 floats instead (a whole number of rows and of 16-wide vectors), so each period is
  // one flat add; thread ranges start on period boundaries, so every range starts at channel 0.
  const int64_t period = w * 16;
  std::vector<float> tiled(static_cast<size_t>(std::min(period, n)));
  for (size_t i = 0; i < tiled.size(); i++) tiled[i] = b.data[i % w];
  forRanges(n, period, [&](int64_t from, int64_t to) {
    for (int64_t p = from; p < to; p += period) {
      addFlat(a.data + p, tiled.data(), out.data + p, std::min(period, to - p));
    }
  });
  return env.Undefined();
}

}  // namespace

void RegisterAdd(Napi::Env env, Napi::Object exports) { exports.Set("add", Napi::Function::New(env, Add)); }

}  // namespace pixel
