// Elementwise kernels and reductions that dominate a gated PixelCNN step after the convolutions (see
// lib/backend/native-eltwise.ts): tanh and sigmoid through oneDNN's JIT-compiled eltwise primitives, the bias
// gradients' sums over leading (or, per image, middle) axes and the fused 256-way softmax cross-entropy, all on every core.
#include "common.h"
#include <cmath>
#include <memory>
#include <omp.h>
#include <unordered_map>
#include <vector>

namespace pixel {

using namespace dnnl;

namespace {

struct Eltwise {
  eltwise_forward prim;
  memory src, dst;
};

thread_local std::unordered_map<std::string, std::unique_ptr<Eltwise>> eltwiseCache;

// eltwise(kind, x, out): kind "tanh" or "sigmoid"; out may alias x.
Napi::Value EltwiseKernel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string kind = info[0].As<Napi::String>().Utf8Value();
  F32View x = f32Arg(info, 1, "x"), out = f32Arg(info, 2, "out");
  requireLength(env, out, x.length, kind.c_str(), "output");
  if (x.length == 0) return env.Undefined();
  algorithm alg;
  if (kind == "tanh") alg = algorithm::eltwise_tanh;
  else if (kind == "sigmoid") alg = algorithm::eltwise_logistic;
  else throw Napi::RangeError::New(env, "pixel_native.eltwise: unknown kind " + kind);
  const std::string key = kind + ',' + std::to_string(x.length);
  try {
    auto it = eltwiseCache.find(key);
    if (it == eltwiseCache.end()) {
      memory::desc md({static_cast<memory::dim>(x.length)}, memory::data_type::f32, memory::format_tag::a);
      eltwise_forward::primitive_desc pd(eltwise_forward::desc(prop_kind::forward_inference, alg, md, 0.f, 0.f), pixel::engine());
      auto e = std::make_unique<Eltwise>();
      e->prim = eltwise_forward(pd);
      e->src = memory(md, pixel::engine(), DNNL_MEMORY_NONE);
      e->dst = memory(md, pixel::engine(), DNNL_MEMORY_NONE);
      it = eltwiseCache.emplace(key, std::move(e)).first;
    }
    Eltwise& e = *it->second;
    e.src.set_data_handle(x.data);
    e.dst.set_data_handle(out.data);
    e.prim.execute(pixel::stream(), {{DNNL_ARG_SRC, e.src}, {DNNL_ARG_DST, e.dst}});
    pixel::stream().wait();
  } catch (const dnnl::error& err) {
    throw Napi::Error::New(env, std::string("pixel_native ") + kind + ": oneDNN failed: " + err.what());
  }
  return env.Undefined();
}

// sumRows(x, out, rows, width): x is `outer` slices of rows x width, out their column sums (outer x width, outer
// from out's length): out[o * width + c] = sum_r x[(o * rows + r) * width + c], accumulated in double precision.
// One slice (a bias gradient: dy [N, H, W, C] over N, H, W): the threads split its rows; several (a per-image
// bias gradient, over H, W only): the threads split the slices. One parallel region either way: a region per
// slice costs more than the sums when another process holds the cores.
Napi::Value SumRows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32View x = f32Arg(info, 0, "x"), out = f32Arg(info, 1, "out");
  const int64_t rows = info[2].As<Napi::Number>().Int64Value(), width = info[3].As<Napi::Number>().Int64Value();
  if (width <= 0 || out.length % width != 0) {
    throw Napi::RangeError::New(env, "pixel_native Sum: output has " + std::to_string(out.length) + " elements, expected a multiple of width " + std::to_string(width));
  }
  const int64_t outer = static_cast<int64_t>(out.length) / width;
  requireLength(env, x, outer * rows * width, "Sum", "input");
  const int threads = omp_get_max_threads();
  if (outer > 1) {
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t o = 0; o < outer; o++) {
      std::vector<double> acc(static_cast<size_t>(width), 0.0);
      const float* slice = x.data + o * rows * width;
      for (int64_t r = 0; r < rows; r++) {
        for (int64_t c = 0; c < width; c++) acc[c] += slice[r * width + c];
      }
      for (int64_t c = 0; c < width; c++) out.data[o * width + c] = static_cast<float>(acc[c]);
    }
    return env.Undefined();
  }
  std::vector<double> partial(static_cast<size_t>(threads) * width, 0.0);
#pragma omp parallel num_threads(threads)
  {
    double* acc = partial.data() + static_cast<size_t>(omp_get_thread_num()) * width;
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; r++) {
      const float* row = x.data + r * width;
      for (int64_t c = 0; c < width; c++) acc[c] += row[c];
    }
  }
  for (int64_t c = 0; c < width; c++) {
    double s = 0;
    for (int t = 0; t < threads; t++) s += partial[static_cast<size_t>(t) * width + c];
    out.data[c] = static_cast<float>(s);
  }
  return env.Undefined();
}

struct Softmax {
  softmax_forward prim;
  memory src, dst;
};
thread_local std::unordered_map<std::string, std::unique_ptr<Softmax>> softmaxCache;

// softmaxCrossEntropy(logits, labels, nats, grad, rows, k): grad = softmax(row) - onehot(label) and
// nats = -log softmax(row)[label]. The softmax is oneDNN's (max-subtracted, vectorised); then, per row,
// log S = -log p[argmax] (p[argmax] >= 1/k, so no underflow) gives nats = log S + max - x[label].
Napi::Value SoftmaxCrossEntropy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32View logits = f32Arg(info, 0, "logits"), nats = f32Arg(info, 2, "nats"), grad = f32Arg(info, 3, "grad");
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw Napi::TypeError::New(env, "pixel_native.softmaxCrossEntropy: labels must be an Int32Array");
  }
  auto labels = info[1].As<Napi::Int32Array>();
  const int64_t rows = info[4].As<Napi::Number>().Int64Value(), k = info[5].As<Napi::Number>().Int64Value();
  requireLength(env, logits, rows * k, "PixelSoftmaxCrossEntropy", "logits");
  requireLength(env, grad, rows * k, "PixelSoftmaxCrossEntropy", "grad");
  requireLength(env, nats, rows, "PixelSoftmaxCrossEntropy", "nats");
  if (static_cast<int64_t>(labels.ElementLength()) != rows) throw Napi::RangeError::New(env, "PixelSoftmaxCrossEntropy: one label per row expected");
  if (rows == 0) return env.Undefined();
  const int32_t* ls = labels.Data();
  for (int64_t r = 0; r < rows; r++) {
    if (ls[r] < 0 || ls[r] >= k) {
      throw Napi::RangeError::New(env, "PixelSoftmaxCrossEntropy: label " + std::to_string(ls[r]) + " of row " + std::to_string(r) +
                                           " is outside 0.." + std::to_string(k - 1));
    }
  }
  const std::string key = std::to_string(rows) + ',' + std::to_string(k);
  try {
    auto it = softmaxCache.find(key);
    if (it == softmaxCache.end()) {
      memory::desc md({rows, k}, memory::data_type::f32, memory::format_tag::ab);
      softmax_forward::primitive_desc pd(softmax_forward::desc(prop_kind::forward_inference, md, 1), pixel::engine());
      auto s = std::make_unique<Softmax>();
      s->prim = softmax_forward(pd);
      s->src = memory(md, pixel::engine(), DNNL_MEMORY_NONE);
      s->dst = memory(md, pixel::engine(), DNNL_MEMORY_NONE);
      it = softmaxCache.emplace(key, std::move(s)).first;
    }
    Softmax& s = *it->second;
    s.src.set_data_handle(logits.data);
    s.dst.set_data_handle(grad.data);
    s.prim.execute(pixel::stream(), {{DNNL_ARG_SRC, s.src}, {DNNL_ARG_DST, s.dst}});
    pixel::stream().wait();
  } catch (const dnnl::error& err) {
    throw Napi::Error::New(env, std::string("pixel_native PixelSoftmaxCrossEntropy: oneDNN failed: ") + err.what());
  }
  const float* xs = logits.data;
  float* gs = grad.data;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    const float* x = xs + r * k;
    float* g = gs + r * k;
    int64_t arg = 0;
    for (int64_t j = 1; j < k; j++) if (x[j] > x[arg]) arg = j;
    nats.data[r] = static_cast<float>(-std::log(static_cast<double>(g[arg])) + x[arg] - x[ls[r]]);
    g[ls[r]] -= 1.0f;
  }
  return env.Undefined();
}

}  // namespace

void RegisterEltwise(Napi::Env env, Napi::Object exports) {
  exports.Set("eltwise", Napi::Function::New(env, EltwiseKernel));
  exports.Set("sumRows", Napi::Function::New(env, SumRows));
  exports.Set("softmaxCrossEntropy", Napi::Function::New(env, SoftmaxCrossEntropy));
}

}  // namespace pixel
