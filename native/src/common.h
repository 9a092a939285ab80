// Shared helpers of the pixel-notebooks native addon: oneDNN engine/stream per thread, reading the Float32Array
// views the JavaScript side passes (they point into the wasm backend's heap: the kernels read and write tensors
// in place, no copies).
#pragma once
#include <napi.h>
#include <dnnl.hpp>
#include <string>
#include <vector>

namespace pixel {

// One engine and stream per thread: Node worker threads that load the addon get their own.
dnnl::engine& engine();
dnnl::stream& stream();

struct F32View {
  float* data;
  size_t length;
};

// A Float32Array argument; `what` names it in the error.
inline F32View f32Arg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  if (index >= info.Length() || !info[index].IsTypedArray() ||
      info[index].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(info.Env(), std::string("pixel_native: argument ") + what + " must be a Float32Array");
  }
  auto a = info[index].As<Napi::Float32Array>();
  return {a.Data(), a.ElementLength()};
}

inline std::vector<int64_t> intsArg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  if (index >= info.Length() || !info[index].IsArray()) {
    throw Napi::TypeError::New(info.Env(), std::string("pixel_native: argument ") + what + " must be an array of integers");
  }
  auto a = info[index].As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out[i] = a.Get(i).As<Napi::Number>().Int64Value();
  return out;
}

inline void requireLength(const Napi::Env& env, const F32View& v, size_t want, const char* kernel, const char* what) {
  if (v.length != want) {
    throw Napi::RangeError::New(env, std::string("pixel_native ") + kernel + ": " + what + " has " + std::to_string(v.length) +
                                         " elements, expected " + std::to_string(want));
  }
}

Napi::Value Conv2D(const Napi::CallbackInfo& info);
Napi::Value MatMul(const Napi::CallbackInfo& info);
Napi::Value ClearCache(const Napi::CallbackInfo& info);
Napi::Value CacheSize(const Napi::CallbackInfo& info);
void RegisterEltwise(Napi::Env env, Napi::Object exports);
void RegisterGate(Napi::Env env, Napi::Object exports);
void RegisterAdd(Napi::Env env, Napi::Object exports);

}  // namespace pixel
