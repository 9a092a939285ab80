// Convolutions (forward, gradient of the input, gradient of the filter) and batched matrix products through
// oneDNN, on tensors in TensorFlow.js's layouts: NHWC activations, HWIO filters, row-major matrices.
//
// Each distinct shape gets a cached primitive (creating one JIT-compiles code: ~1 ms). The primitive picks its
// own memory layouts (format `any`); where that differs from the tensor's plain layout, the operand is
// reordered into a buffer owned by the cache entry (allocated once, so its pages stay resident: fresh pages
// cost 15-23 us per 4 KiB on these VMs) and the result reordered back. For these sizes oneDNN's blocked
// layouts run ~1.5-2.5x faster than NHWC in place, more than the reorders cost (see lib/backend/native.ts).
#include "common.h"
#include <memory>
#include <sstream>
#include <unordered_map>

namespace pixel {

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

struct Operand {
  int arg = 0;
  bool output = false;
  bool reordered = false;
  memory user;   // the tensor itself (plain layout); its handle is set on every call
  memory inner;  // what the primitive reads or writes: `user`, or a cached buffer in its own layout
  primitive convert;
};

struct Cached {
  primitive prim;
  std::vector<Operand> operands;  // in the order the caller passes its pointers
};

thread_local std::unordered_map<std::string, std::unique_ptr<Cached>> cache;

Operand operand(int arg, bool output, const memory::desc& user_md, const memory::desc& prim_md) {
  Operand o;
  o.arg = arg;
  o.output = output;
  o.user = memory(user_md, pixel::engine(), DNNL_MEMORY_NONE);
  if (prim_md == user_md) {
    o.inner = o.user;
  } else {
    o.reordered = true;
    o.inner = memory(prim_md, pixel::engine());
    o.convert = output ? primitive(reorder(o.inner, o.user)) : primitive(reorder(o.user, o.inner));
  }
  return o;
}

void run(Cached& c, const std::vector<float*>& pointers) {
  dnnl::stream& s = pixel::stream();
  std::unordered_map<int, memory> args;
  for (size_t i = 0; i < c.operands.size(); i++) {
    Operand& o = c.operands[i];
    o.user.set_data_handle(pointers[i]);
    if (o.reordered && !o.output) o.convert.execute(s, {{DNNL_ARG_FROM, o.user}, {DNNL_ARG_TO, o.inner}});
    args[o.arg] = o.inner;
  }
  c.prim.execute(s, args);
  for (Operand& o : c.operands) {
    if (o.reordered && o.output) o.convert.execute(s, {{DNNL_ARG_FROM, o.inner}, {DNNL_ARG_TO, o.user}});
  }
  s.wait();
}

std::string key(const char* kind, const std::vector<int64_t>& dims) {
  std::ostringstream k;
  k << kind;
  for (int64_t d : dims) k << ',' << d;
  return k.str();
}

enum ConvKind { kForward = 0, kBackpropInput = 1, kBackpropFilter = 2, kForwardBias = 3 };

std::unique_ptr<Cached> makeConv(ConvKind kind, const std::vector<int64_t>& d) {
  const int64_t N = d[0], H = d[1], W = d[2], C = d[3], Kh = d[4], Kw = d[5], Co = d[6], Ho = d[7], Wo = d[8];
  const memory::dims strides = {d[9], d[10]}, padL = {d[11], d[13]}, padR = {d[12], d[14]};
  const bool blocked = d[15] != 0;
  const memory::dims srcDims = {N, C, H, W}, weiDims = {Co, C, Kh, Kw}, dstDims = {N, Co, Ho, Wo};
  const memory::desc srcPlain(srcDims, dt::f32, tag::nhwc), weiPlain(weiDims, dt::f32, tag::hwio),
      dstPlain(dstDims, dt::f32, tag::nhwc);
  const memory::desc srcAny(srcDims, dt::f32, blocked ? tag::any : tag::nhwc),
      weiAny(weiDims, dt::f32, tag::any), dstAny(dstDims, dt::f32, blocked ? tag::any : tag::nhwc);
  dnnl::engine& eng = pixel::engine();
  convolution_forward::desc fd(prop_kind::forward_training, algorithm::convolution_direct, srcAny, weiAny, dstAny,
                               strides, padL, padR);
  convolution_forward::primitive_desc fpd(fd, eng);
  auto c = std::make_unique<Cached>();
  if (kind == kForwardBias) {
    // The bias is added as the primitive writes its output: no second pass over the output.
    const memory::desc biasMd({Co}, dt::f32, tag::x);
    convolution_forward::desc bd(prop_kind::forward_training, algorithm::convolution_direct, srcAny, weiAny, biasMd,
                                 dstAny, strides, padL, padR);
    convolution_forward::primitive_desc bpd(bd, eng);
    c->prim = convolution_forward(bpd);
    c->operands.push_back(operand(DNNL_ARG_SRC, false, srcPlain, bpd.src_desc()));
    c->operands.push_back(operand(DNNL_ARG_WEIGHTS, false, weiPlain, bpd.weights_desc()));
    c->operands.push_back(operand(DNNL_ARG_BIAS, false, biasMd, bpd.bias_desc()));
    c->operands.push_back(operand(DNNL_ARG_DST, true, dstPlain, bpd.dst_desc()));
  } else if (kind == kForward) {
    c->prim = convolution_forward(fpd);
    c->operands.push_back(operand(DNNL_ARG_SRC, false, srcPlain, fpd.src_desc()));
    c->operands.push_back(operand(DNNL_ARG_WEIGHTS, false, weiPlain, fpd.weights_desc()));
    c->operands.push_back(operand(DNNL_ARG_DST, true, dstPlain, fpd.dst_desc()));
  } else if (kind == kBackpropInput) {
    convolution_backward_data::desc bd(algorithm::convolution_direct, srcAny, weiAny, dstAny, strides, padL, padR);
    convolution_backward_data::primitive_desc bpd(bd, eng, fpd);
    c->prim = convolution_backward_data(bpd);
    c->operands.push_back(operand(DNNL_ARG_DIFF_DST, false, dstPlain, bpd.diff_dst_desc()));
    c->operands.push_back(operand(DNNL_ARG_WEIGHTS, false, weiPlain, bpd.weights_desc()));
    c->operands.push_back(operand(DNNL_ARG_DIFF_SRC, true, srcPlain, bpd.diff_src_desc()));
  } else {
    convolution_backward_weights::desc bd(algorithm::convolution_direct, srcAny, weiAny, dstAny, strides, padL, padR);
    convolution_backward_weights::primitive_desc bpd(bd, eng, fpd);
    c->prim = convolution_backward_weights(bpd);
    c->operands.push_back(operand(DNNL_ARG_SRC, false, srcPlain, bpd.src_desc()));
    c->operands.push_back(operand(DNNL_ARG_DIFF_DST, false, dstPlain, bpd.diff_dst_desc()));
    c->operands.push_back(operand(DNNL_ARG_DIFF_WEIGHTS, true, weiPlain, bpd.diff_weights_desc()));
  }
  return c;
}

Cached& cached(const std::string& k, const std::function<std::unique_ptr<Cached>()>& make) {
  auto it = cache.find(k);
  if (it != cache.end()) return *it->second;
  return *cache.emplace(k, make()).first->second;
}

std::string dnnlMessage(const dnnl::error& e) {
  return std::string(e.what()) + " (oneDNN status " + std::to_string(static_cast<int>(e.status)) + ")";
}

}  // namespace

// conv2d(kind, a, b, out, dims[, bias]): kind 0 forward (x, w -> y), 1 input gradient (dy, w -> dx), 2 filter
// gradient (x, dy -> dw), 3 forward with a bias (x, w, bias -> y); dims [N, H, W, C, Kh, Kw, Co, Ho, Wo, strideH,
// strideW, padTop, padBottom, padLeft, padRight, blocked]. Tensors: x [N, H, W, C], w [Kh, Kw, C, Co],
// y [N, Ho, Wo, Co], bias [Co].
Napi::Value Conv2D(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int kind = info[0].As<Napi::Number>().Int32Value();
  if (kind < 0 || kind > 3) throw Napi::RangeError::New(env, "pixel_native.conv2d: kind must be 0, 1, 2 or 3");
  F32View a = f32Arg(info, 1, "a"), b = f32Arg(info, 2, "b"), out = f32Arg(info, 3, "out");
  std::vector<int64_t> d = intsArg(info, 4, "dims");
  if (d.size() != 16) throw Napi::RangeError::New(env, "pixel_native.conv2d: dims must have 16 entries");
  const size_t xs = d[0] * d[1] * d[2] * d[3], ws = d[4] * d[5] * d[3] * d[6], ys = d[0] * d[7] * d[8] * d[6];
  static const char* names[] = {"Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "FusedConv2D"};
  const char* name = names[kind];
  const size_t sizes[4][3] = {{xs, ws, ys}, {ys, ws, xs}, {xs, ys, ws}, {xs, ws, ys}};
  requireLength(env, a, sizes[kind][0], name, "first input");
  requireLength(env, b, sizes[kind][1], name, "second input");
  requireLength(env, out, sizes[kind][2], name, "output");
  std::vector<float*> pointers = {a.data, b.data, out.data};
  if (kind == kForwardBias) {
    F32View bias = f32Arg(info, 5, "bias");
    requireLength(env, bias, static_cast<size_t>(d[6]), name, "bias");
    pointers = {a.data, b.data, bias.data, out.data};
  }
  try {
    Cached& c = cached(key(name, d), [&] { return makeConv(static_cast<ConvKind>(kind), d); });
    run(c, pointers);
  } catch (const dnnl::error& e) {
    throw Napi::Error::New(env, std::string("pixel_native ") + name + ": oneDNN failed: " + dnnlMessage(e));
  }
  return env.Undefined();
}

// matMul(a, b, out, dims): dims [batchA, batchB, M, K, N, transposeA, transposeB]; a is [batchA, M, K] (or
// [batchA, K, M] when transposed), b [batchB, K, N] (or [batchB, N, K]), out [max(batchA, batchB), M, N]. A
// batch of 1 broadcasts.
Napi::Value MatMul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32View a = f32Arg(info, 0, "a"), b = f32Arg(info, 1, "b"), out = f32Arg(info, 2, "out");
  std::vector<int64_t> d = intsArg(info, 3, "dims");
  if (d.size() != 7) throw Napi::RangeError::New(env, "pixel_native.matMul: dims must have 7 entries");
  const int64_t Ba = d[0], Bb = d[1], M = d[2], K = d[3], N = d[4];
  const bool ta = d[5] != 0, tb = d[6] != 0;
  if (Ba != Bb && Ba != 1 && Bb != 1) throw Napi::RangeError::New(env, "pixel_native.matMul: batches must match or be 1");
  const int64_t B = std::max(Ba, Bb);
  requireLength(env, a, Ba * M * K, "BatchMatMul", "a");
  requireLength(env, b, Bb * K * N, "BatchMatMul", "b");
  requireLength(env, out, B * M * N, "BatchMatMul", "out");
  try {
    Cached& c = cached(key("MatMul", d), [&] {
      const memory::desc aMd({Ba, M, K}, dt::f32, ta ? memory::dims{M * K, 1, M} : memory::dims{M * K, K, 1});
      const memory::desc bMd({Bb, K, N}, dt::f32, tb ? memory::dims{K * N, 1, K} : memory::dims{K * N, N, 1});
      const memory::desc cMd({B, M, N}, dt::f32, memory::dims{M * N, N, 1});
      matmul::primitive_desc pd(matmul::desc(aMd, bMd, cMd), pixel::engine());
      auto c = std::make_unique<Cached>();
      c->prim = matmul(pd);
      c->operands.push_back(operand(DNNL_ARG_SRC, false, aMd, pd.src_desc()));
      c->operands.push_back(operand(DNNL_ARG_WEIGHTS, false, bMd, pd.weights_desc()));
      c->operands.push_back(operand(DNNL_ARG_DST, true, cMd, pd.dst_desc()));
      return c;
    });
    run(c, {a.data, b.data, out.data});
  } catch (const dnnl::error& e) {
    throw Napi::Error::New(env, std::string("pixel_native BatchMatMul: oneDNN failed: ") + dnnlMessage(e));
  }
  return env.Undefined();
}

Napi::Value ClearCache(const Napi::CallbackInfo& info) {
  cache.clear();
  return info.Env().Undefined();
}

Napi::Value CacheSize(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(cache.size()));
}

}  // namespace pixel
