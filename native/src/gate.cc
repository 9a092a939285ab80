// The gated activation y = tanh(a) * sigmoid(b) of a gated PixelCNN (lib/ops/gated-activation.ts), a and b the
// two channel halves of each row of x [rows, 2c], and its gradient written straight into one [rows, 2c]
// tensor. Done as tf ops it is a split (two copies), tanh, sigmoid and multiply forward and, backward, their
// gradients and a concat: ~10 full passes over the layer's features instead of one each way.
//
// tanh and exp are our own branch-free float polynomials (Cephes' tanhf and expf, ~2 ulp) so the loops
// vectorise; target_clones builds AVX-512, AVX2 and baseline versions and picks one at load time (the addon
// is compiled without -march, like Debian's packages).
#include "common.h"
#include <cmath>
#include <cstdint>
#include <cstring>
#include <omp.h>

namespace pixel {

namespace {

inline float expPoly(float x) {
  // exp(x) = 2^n * exp(r), |r| <= ln2/2; x clamped so 2^n stays a normal float (exp(-87.3) ~ 1.2e-38, and
  // every caller adds 1 to it or multiplies it by a bounded value). NaN fails both comparisons and stays NaN.
  x = x > 88.0f ? 88.0f : x;
  x = x < -87.0f ? -87.0f : x;
  // n = round(x / ln2) by the 1.5 * 2^23 trick: floorf is a library call that would stop vectorisation.
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  const float r2 = r * r;
  float p = 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = p * r2 + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

inline float sigmoidPoly(float x) { return 1.0f / (1.0f + expPoly(-x)); }

inline float tanhPoly(float x) {
  const float z = std::fabs(x);
  // |x| >= 0.625: 1 - 2 / (exp(2|x|) + 1) with the sign of x; below: Cephes' odd polynomial (no cancellation near 0).
  float big = 1.0f - 2.0f / (expPoly(2.0f * z) + 1.0f);
  big = x < 0.0f ? -big : big;
  const float s = x * x;
  float p = -5.70498872745E-3f;
  p = p * s + 2.06390887954E-2f;
  p = p * s - 5.37397155531E-2f;
  p = p * s + 1.33314422036E-1f;
  p = p * s - 3.33332819422E-1f;
  const float small = p * s * x + x;
  return z < 0.625f ? small : big;
}

// The clones hold no OpenMP region: GCC outlines a parallel region's body into a function of its own, which
// would not be cloned. Rows are split into per-thread ranges outside, vectorised inside.
#define PIXEL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

// Channel counts are small (30 per half in our models): a loop over c would run a 16-lane vector once and
// then 14 scalar iterations. Instead each row is covered by 16-wide blocks, the last one shifted back to end
// at c (it overlaps its neighbour and recomputes a few values; outputs never alias inputs, so that is harmless).
constexpr int64_t kBlock = 16;

inline void gateBlock(const float* a, const float* b, float* o) {
#pragma omp simd
  for (int64_t k = 0; k < kBlock; k++) o[k] = tanhPoly(a[k]) * sigmoidPoly(b[k]);
}

inline void gateGradBlock(const float* a, const float* b, const float* g, float* da, float* db) {
#pragma omp simd
  for (int64_t k = 0; k < kBlock; k++) {
    const float t = tanhPoly(a[k]), s = sigmoidPoly(b[k]);
    const float gs = g[k] * s;
    da[k] = gs * (1.0f - t * t);
    db[k] = gs * t * (1.0f - s);
  }
}

PIXEL_CLONES void gateRange(const float* x, float* y, int64_t from, int64_t to, int64_t c) {
  for (int64_t r = from; r < to; r++) {
    const float* a = x + r * 2 * c;
    const float* b = a + c;
    float* o = y + r * c;
    if (c < kBlock) {
      for (int64_t j = 0; j < c; j++) o[j] = tanhPoly(a[j]) * sigmoidPoly(b[j]);
      continue;
    }
    for (int64_t j0 = 0; j0 < c; j0 += kBlock) {
      const int64_t j = j0 + kBlock <= c ? j0 : c - kBlock;
      gateBlock(a + j, b + j, o + j);
    }
  }
}

PIXEL_CLONES void gateGradRange(const float* x, const float* dy, float* dx, int64_t from, int64_t to, int64_t c) {
  for (int64_t r = from; r < to; r++) {
    const float* a = x + r * 2 * c;
    const float* b = a + c;
    const float* g = dy + r * c;
    float* da = dx + r * 2 * c;
    float* db = da + c;
    if (c < kBlock) {
      for (int64_t j = 0; j < c; j++) {
        const float t = tanhPoly(a[j]), s = sigmoidPoly(b[j]);
        const float gs = g[j] * s;
        da[j] = gs * (1.0f - t * t);
        db[j] = gs * t * (1.0f - s);
      }
      continue;
    }
    for (int64_t j0 = 0; j0 < c; j0 += kBlock) {
      const int64_t j = j0 + kBlock <= c ? j0 : c - kBlock;
      gateGradBlock(a + j, b + j, g + j, da + j, db + j);
    }
  }
}

// Calls body(from, to) on contiguous row ranges, one per thread; small tensors stay on the calling thread.
template <typename F>
void forRowRanges(int64_t rows, int64_t c, F body) {
  const int threads = rows * c < (1 << 15) ? 1 : omp_get_max_threads();
#pragma omp parallel num_threads(threads)
  {
    const int64_t n = omp_get_num_threads(), t = omp_get_thread_num();
    body(rows * t / n, rows * (t + 1) / n);
  }
}

int64_t intArg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  if (index >= info.Length() || !info[index].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), std::string("pixel_native PixelGatedActivation: argument ") + what + " must be a number");
  }
  const int64_t v = info[index].As<Napi::Number>().Int64Value();
  if (v < 0) throw Napi::RangeError::New(info.Env(), std::string("pixel_native PixelGatedActivation: ") + what + " must be >= 0");
  return v;
}

// gate(x, y, rows, c): x [rows, 2c] -> y [rows, c].
Napi::Value Gate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32View x = f32Arg(info, 0, "x"), y = f32Arg(info, 1, "y");
  const int64_t rows = intArg(info, 2, "rows"), c = intArg(info, 3, "c");
  requireLength(env, x, rows * 2 * c, "PixelGatedActivation", "x");
  requireLength(env, y, rows * c, "PixelGatedActivation", "y");
  forRowRanges(rows, c, [&](int64_t from, int64_t to) { gateRange(x.data, y.data, from, to, c); });
  return env.Undefined();
}

// gateGrad(x, dy, dx, rows, c): x [rows, 2c], dy [rows, c] -> dx [rows, 2c] (tanh and sigmoid recomputed from x).
Napi::Value GateGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32View x = f32Arg(info, 0, "x"), dy = f32Arg(info, 1, "dy"), dx = f32Arg(info, 2, "dx");
  const int64_t rows = intArg(info, 3, "rows"), c = intArg(info, 4, "c");
  requireLength(env, x, rows * 2 * c, "PixelGatedActivationGrad", "x");
  requireLength(env, dy, rows * c, "PixelGatedActivationGrad", "dy");
  requireLength(env, dx, rows * 2 * c, "PixelGatedActivationGrad", "dx");
  forRowRanges(rows, c, [&](int64_t from, int64_t to) { gateGradRange(x.data, dy.data, dx.data, from, to, c); });
  return env.Undefined();
}

}  // namespace

void RegisterGate(Napi::Env env, Napi::Object exports) {
  exports.Set("gate", Napi::Function::New(env, Gate));
  exports.Set("gateGrad", Napi::Function::New(env, GateGrad));
}

}  // namespace pixel
