{
  # Built by scripts/build-native.js (npm's install step), which passes the oneDNN locations it checked.
  "variables": {
    "napi_include%": "",
    "dnnl_include%": "",
    "dnnl_lib%": ""
  },
  "targets": [
    {
      "target_name": "pixel_native",
      "sources": ["src/addon.cc", "src/conv.cc", "src/eltwise.cc", "src/gate.cc", "src/add.cc"],
      "include_dirs": ["<(napi_include)", "<@(dnnl_include)"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++17", "-O3", "-fopenmp", "-fexceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "ldflags": ["-fopenmp"],
      "libraries": ["<@(dnnl_lib)", "-ldnnl"]
    }
  ]
}
