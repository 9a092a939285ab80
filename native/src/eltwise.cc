#include "common.h"
namespace pixel {
void RegisterEltwise(Napi::Env env, Napi::Object exports) {}
}
