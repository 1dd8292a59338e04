// visemo's native kernels: a thin N-API layer over oneDNN (Debian libdnnl-dev, 2.x API). This file
// registers the module: its exported functions (the kernels live in the files kernels.h names) and
// the calls that set it up or describe it (info, setThreads, keepFreedMemory, layout).
//
// Every kernel works in place on Float32Array buffers owned by the tfjs CPU backend: the
// JavaScript side allocates the output and passes shapes and parameters as Int32Arrays (the
// structs of generated/params.h, packed by src/engine/native/params.generated.ts). Primitives are
// built once per shape and kept in a cache, because building one costs far more than running it
// at the batch sizes we see. A function returns false (instead of throwing) when oneDNN has no
// implementation for the request, so the caller can fall back to the JavaScript kernel.
#include <node_api.h>
#include <dnnl.hpp>
#include <omp.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cstdio>

#include "../generated/params.h"
#include "common.h"
#include "kernels.h"

namespace visemo {
namespace {

// info(): { onednn: "2.6.3", threads: 2, primitives: 14 } (primitives: built and cached on this thread)
napi_value Info(napi_env env, napi_callback_info) {
  const dnnl_version_t *v = dnnl_version();
  char version[64];
  std::snprintf(version, sizeof version, "%d.%d.%d", v->major, v->minor, v->patch);
  napi_value obj, s, n;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, version, NAPI_AUTO_LENGTH, &s);
  napi_set_named_property(env, obj, "onednn", s);
  napi_create_int32(env, omp_get_max_threads(), &n);
  napi_set_named_property(env, obj, "threads", n);
  const size_t primitives = convPrimitiveCount() + poolPrimitiveCount();
  napi_create_int32(env, static_cast<int32_t>(primitives), &n);
  napi_set_named_property(env, obj, "primitives", n);
  return obj;
}

// setThreads(n)
napi_value SetThreads(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 1);
  int32_t n = 0;
  if (a.empty() || napi_get_value_int32(env, a[0], &n) != napi_ok || n < 1) return typeError(env, "setThreads(n >= 1)");
  omp_set_num_threads(n);
  return boolean(env, true);
}

// keepFreedMemory(): large tensor buffers (tens of MB at 100x100) are allocated and freed many
// times a step. glibc serves each from a fresh mmap whose pages the kernel must fault in and zero
// again, which costs more than the arithmetic on them; kept in the heap, freed buffers are reused.
napi_value KeepFreedMemory(napi_env env, napi_callback_info) {
#if defined(__GLIBC__)
  const bool ok = mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
  return boolean(env, ok);
#else
  return boolean(env, false);
#endif
}

// layout(): { checksum, structs: { ConvParams: { size, fields: { batch: 0, ... } }, ... },
// enums: { BinaryOp: { Add: 0, ... }, ... } }: generated/params.h as this compiler laid it out,
// so that addon.ts can refuse an addon built from another table and params.test.ts can compare
// the two sides field by field.
napi_value Layout(napi_env env, napi_callback_info) {
  napi_value obj, structs, enums, n;
  napi_create_object(env, &obj);
  napi_create_uint32(env, PARAMS_LAYOUT, &n);
  napi_set_named_property(env, obj, "checksum", n);
  napi_create_object(env, &structs);
  for (const StructLayout &s : STRUCT_LAYOUTS) {
    napi_value entry, fields;
    napi_create_object(env, &entry);
    napi_create_object(env, &fields);
    napi_create_uint32(env, static_cast<uint32_t>(s.size), &n);
    napi_set_named_property(env, entry, "size", n);
    for (size_t i = 0; i < s.count; i++) {
      napi_create_uint32(env, static_cast<uint32_t>(s.fields[i].offset), &n);
      napi_set_named_property(env, fields, s.fields[i].name, n);
    }
    napi_set_named_property(env, entry, "fields", fields);
    napi_set_named_property(env, structs, s.name, entry);
  }
  napi_set_named_property(env, obj, "structs", structs);
  napi_create_object(env, &enums);
  for (const EnumLayout &e : ENUM_LAYOUTS) {
    napi_value values;
    napi_create_object(env, &values);
    for (size_t i = 0; i < e.count; i++) {
      napi_create_int32(env, e.values[i].value, &n);
      napi_set_named_property(env, values, e.values[i].name, n);
    }
    napi_set_named_property(env, enums, e.name, values);
  }
  napi_set_named_property(env, obj, "enums", enums);
  return obj;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor fns[] = {
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackwardData", nullptr, Conv2dBackwardData, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackwardFilter", nullptr, Conv2dBackwardFilter, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"depthwiseConv2d", nullptr, DepthwiseConv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"resizeBilinear", nullptr, ResizeBilinear, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"padConstant", nullptr, PadConstant, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"matmul", nullptr, MatMul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPool", nullptr, MaxPool, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPoolGrad", nullptr, MaxPoolGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binary", nullptr, Binary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binaryBroadcast", nullptr, BinaryBroadcast, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"unary", nullptr, Unary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sum", nullptr, Sum, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"keepFreedMemory", nullptr, KeepFreedMemory, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"reluGrad", nullptr, ReluGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adam", nullptr, Adam, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"dropout", nullptr, Dropout, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormTrain", nullptr, BatchNormTrain, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormApply", nullptr, BatchNormApply, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormGrad", nullptr, BatchNormGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"reluGradBias", nullptr, ReluGradBias, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setBlockedActivations", nullptr, SetBlockedActivations, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"layout", nullptr, Layout, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns);
  return exports;
}

}  // namespace
}  // namespace visemo

NAPI_MODULE(NODE_GYP_MODULE_NAME, visemo::Init)
