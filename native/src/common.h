// What every kernel file of the addon shares: reading N-API arguments (float arrays, shapes, the
// parameter structs of generated/params.h), answering, and the guard that turns a oneDNN error
// into `false` so the caller falls back to the JavaScript kernel.
#pragma once

#include <node_api.h>
#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "../generated/params.h"

namespace visemo {

// Below this many elements a loop stays on one thread: waking the OpenMP team costs more.
constexpr size_t PARALLEL_MIN = 1 << 15;

inline bool debug() {
  static const bool on = std::getenv("VISEMO_DEBUG") != nullptr;
  return on;
}

struct Floats {
  float *data = nullptr;
  size_t length = 0;
};

inline bool getFloats(napi_env env, napi_value v, Floats &out, bool allowNull = false) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (allowNull && (t == napi_null || t == napi_undefined)) return true;
  bool isTyped = false;
  napi_is_typedarray(env, v, &isTyped);
  if (!isTyped) return false;
  napi_typedarray_type type;
  void *data;
  napi_value buf;
  size_t offset;
  napi_get_typedarray_info(env, v, &type, &out.length, &data, &buf, &offset);
  if (type != napi_float32_array) return false;
  out.data = static_cast<float *>(data);
  return true;
}

// The data of an Int32Array of exactly `expected` values, or nullptr.
inline const int32_t *int32Data(napi_env env, napi_value v, size_t expected) {
  bool isTyped = false;
  napi_is_typedarray(env, v, &isTyped);
  if (!isTyped) return nullptr;
  napi_typedarray_type type;
  size_t length;
  void *data;
  napi_value buf;
  size_t offset;
  napi_get_typedarray_info(env, v, &type, &length, &data, &buf, &offset);
  if (type != napi_int32_array || length != expected) return nullptr;
  return static_cast<const int32_t *>(data);
}

inline bool getInts(napi_env env, napi_value v, std::vector<int64_t> &out, size_t expected) {
  const int32_t *p = int32Data(env, v, expected);
  if (!p) return false;
  out.assign(p, p + expected);
  return true;
}

// One of generated/params.h's structs from the Int32Array its TypeScript packer wrote: the
// array's length must be the struct's field count.
template <class P>
bool getParams(napi_env env, napi_value v, P &out) {
  const int32_t *p = int32Data(env, v, P::COUNT);
  if (!p) return false;
  std::memcpy(&out, p, sizeof(P));
  return true;
}

// An Int32Array of any length from 1 to maxLength (a shape, its strides): its length is the rank
// the other arrays of the call must match.
inline bool getShape(napi_env env, napi_value v, std::vector<int64_t> &out, size_t maxLength) {
  bool isTyped = false;
  napi_is_typedarray(env, v, &isTyped);
  if (!isTyped) return false;
  size_t length = 0;
  napi_get_typedarray_info(env, v, nullptr, &length, nullptr, nullptr, nullptr);
  return length >= 1 && length <= maxLength && getInts(env, v, out, length);
}

inline bool getBool(napi_env env, napi_value v) {
  bool b = false;
  napi_get_value_bool(env, v, &b);
  return b;
}

inline napi_value boolean(napi_env env, bool b) {
  napi_value r;
  napi_get_boolean(env, b, &r);
  return r;
}

inline napi_value typeError(napi_env env, const char *what) {
  napi_throw_type_error(env, nullptr, what);
  return nullptr;
}

inline std::vector<napi_value> args(napi_env env, napi_callback_info info, size_t n) {
  std::vector<napi_value> a(n);
  size_t got = n;
  napi_get_cb_info(env, info, &got, a.data(), nullptr, nullptr);
  if (got < n) a.resize(got);
  return a;
}

// The arguments of a call f(x, y, params): two float arrays and a parameter struct.
template <class P>
bool xyParams(napi_env env, napi_callback_info info, Floats &x, Floats &y, P &p) {
  auto a = args(env, info, 3);
  return a.size() == 3 && getFloats(env, a[0], x) && getFloats(env, a[1], y) && getParams(env, a[2], p);
}

// A primitive cache's key: the kind, the parameters' values, `extra`. It names the thread count
// too: oneDNN splits a primitive's work for the threads there are when it is created, so a
// primitive built for one thread keeps running on one after setThreads(2).
template <class P>
std::string keyOf(const char *kind, const P &p, std::initializer_list<int64_t> extra) {
  int32_t values[P::COUNT];
  std::memcpy(values, &p, sizeof(P));
  std::string k(kind);
  for (int32_t v : values) k += ',' + std::to_string(v);
  for (int64_t v : extra) k += ';' + std::to_string(v);
  k += '@' + std::to_string(omp_get_max_threads());
  return k;
}

}  // namespace visemo
