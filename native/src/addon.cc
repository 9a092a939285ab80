// pixel-notebooks native addon: oneDNN convolutions and matrix products plus multi-threaded elementwise kernels
// for TensorFlow.js's wasm backend (lib/backend/native.ts registers them as the `native` backend).
#include "common.h"
#include <omp.h>

namespace pixel {

dnnl::engine& engine() {
  thread_local dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

dnnl::stream& stream() {
  thread_local dnnl::stream s(engine());
  return s;
}

static const char* isaName(dnnl_cpu_isa_t isa) {
  switch (isa) {
    case dnnl_cpu_isa_sse41: return "SSE4.1";
    case dnnl_cpu_isa_avx: return "AVX";
    case dnnl_cpu_isa_avx2: return "AVX2";
    case dnnl_cpu_isa_avx2_vnni: return "AVX2-VNNI";
    case dnnl_cpu_isa_avx512_mic: return "AVX-512 (MIC)";
    case dnnl_cpu_isa_avx512_mic_4ops: return "AVX-512 (MIC 4ops)";
    case dnnl_cpu_isa_avx512_core: return "AVX-512";
    case dnnl_cpu_isa_avx512_core_vnni: return "AVX-512 VNNI";
    case dnnl_cpu_isa_avx512_core_bf16: return "AVX-512 BF16";
    case dnnl_cpu_isa_avx512_core_amx: return "AVX-512 AMX";
    default: return "generic";
  }
}

static Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const dnnl_version_t* v = dnnl_version();
  Napi::Object o = Napi::Object::New(env);
  o.Set("onednn", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  o.Set("threads", omp_get_max_threads());
  o.Set("isa", isaName(dnnl_get_effective_cpu_isa()));
  return o;
}

static Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  int n = info[0].As<Napi::Number>().Int32Value();
  if (n < 1) throw Napi::RangeError::New(info.Env(), "pixel_native.setThreads: expected a count >= 1");
  omp_set_num_threads(n);
  return info.Env().Undefined();
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("conv2d", Napi::Function::New(env, Conv2D));
  exports.Set("matMul", Napi::Function::New(env, MatMul));
  exports.Set("clearCache", Napi::Function::New(env, ClearCache));
  exports.Set("cacheSize", Napi::Function::New(env, CacheSize));
  RegisterEltwise(env, exports);
  RegisterGate(env, exports);
  RegisterAdd(env, exports);
  return exports;
}

}  // namespace pixel

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return pixel::Init(env, exports); }

NODE_API_MODULE(pixel_native, InitAddon)
