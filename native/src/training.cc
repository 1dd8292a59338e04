// Kernels tfjs does not have, one pass each where tfjs chains element-wise ops: the relu gradient
// (alone, or with a fused conv's bias gradient), the Adam update and dropout. The kernels of
// src/engine/native/kernels-training.ts.
#include <cmath>
#include <cstdint>
#include <vector>

#include "channel-sums.h"
#include "common.h"
#include "kernels.h"

namespace visemo {

// reluGrad(dy, x, out): dy * step(x), the gradient of relu in one pass instead of two.
napi_value ReluGrad(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 3);
  Floats dy, x, out;
  if (a.size() < 3 || !getFloats(env, a[0], dy) || !getFloats(env, a[1], x) || !getFloats(env, a[2], out))
    return typeError(env, "reluGrad(dy, x, out)");
  const size_t n = out.length;
  if (dy.length != n || x.length != n) return boolean(env, false);
  const float *g = dy.data, *xv = x.data;
  float *o = out.data;
#pragma omp parallel for simd if (n >= PARALLEL_MIN) schedule(static)
  for (size_t i = 0; i < n; i++) {
    const float s = xv[i] != xv[i] ? xv[i] : (xv[i] > 0.f ? 1.f : 0.f);
    o[i] = g[i] * s;
  }
  return boolean(env, true);
}

// adam(w, m, v, g, outW, outM, outV, [beta1, beta2, epsilon, learningRate, 1-beta1^t, 1-beta2^t]):
// tfjs' Adam update (the same operations in the same order) in one pass over the parameters
// instead of fourteen.
napi_value Adam(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 8);
  Floats w, m, v, g, ow, om, ov, hp;
  if (a.size() < 8 || !getFloats(env, a[0], w) || !getFloats(env, a[1], m) || !getFloats(env, a[2], v) ||
      !getFloats(env, a[3], g) || !getFloats(env, a[4], ow) || !getFloats(env, a[5], om) || !getFloats(env, a[6], ov) ||
      !getFloats(env, a[7], hp) || hp.length != 6)
    return typeError(env, "adam(w, m, v, g, outW, outM, outV, Float32Array(6))");
  const size_t n = w.length;
  if (m.length != n || v.length != n || g.length != n || ow.length != n || om.length != n || ov.length != n)
    return boolean(env, false);
  const float b1 = hp.data[0], b2 = hp.data[1], eps = hp.data[2], negLr = -hp.data[3], c1 = hp.data[4], c2 = hp.data[5];
  const float ob1 = static_cast<float>(1.0 - static_cast<double>(b1)), ob2 = static_cast<float>(1.0 - static_cast<double>(b2));
#pragma omp parallel for simd if (n >= PARALLEL_MIN) schedule(static)
  for (size_t i = 0; i < n; i++) {
    const float gi = g.data[i];
    const float mi = m.data[i] * b1 + gi * ob1;
    const float vi = v.data[i] * b2 + (gi * gi) * ob2;
    om.data[i] = mi;
    ov.data[i] = vi;
    ow.data[i] = ((mi / c1) / (std::sqrt(vi / c2) + eps)) * negLr + w.data[i];
  }
  return boolean(env, true);
}

namespace {

// Written so that GCC vectorises it: std::floor does not vectorise under its default
// -ftrapping-math, and an unsigned-to-float conversion has no SSE instruction.
void dropoutLoop(const float *xs, float *o, size_t n, float keep, uint32_t base) {
  const float kept = 1.0f / keep;
#pragma omp parallel for simd if (n >= PARALLEL_MIN) schedule(static)
  for (size_t i = 0; i < n; i++) {
    // lowbias32 (C. Wellons): 32-bit multiplies, so the loop vectorises.
    uint32_t z = base + static_cast<uint32_t>(i) * 0x85EBCA6Bu;
    z ^= z >> 16;
    z *= 0x7FEB352Du;
    z ^= z >> 15;
    z *= 0x846CA68Bu;
    z ^= z >> 16;
    const float u = static_cast<float>(static_cast<int32_t>(z >> 8)) * (1.0f / 16777216.0f);  // 24 random bits
    // u + keep lies in [0, 2), so floor(u + keep) is 1 exactly when u + keep >= 1.
    o[i] = xs[i] * (u + keep >= 1.0f ? kept : 0.0f);
  }
}

}  // namespace

// dropout(x, out, rate, seed): out[i] = x[i] * floor(u + keep) / keep with u uniform in [0, 1):
// tfjs' dropout multiplier, drawn from a counter-based hash of seed and index instead of a
// JavaScript random stream, so both threads draw independently and a seed repeats exactly. The
// mask is never stored: the gradient is this same call on dy with the same seed.
napi_value Dropout(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 4);
  Floats x, out;
  double rate = 0, seed = 0;
  if (a.size() < 4 || !getFloats(env, a[0], x) || !getFloats(env, a[1], out) || napi_get_value_double(env, a[2], &rate) != napi_ok ||
      napi_get_value_double(env, a[3], &seed) != napi_ok || !(rate >= 0 && rate < 1) || out.length != x.length)
    return typeError(env, "dropout(x, out, rate in [0, 1), seed)");
  const uint64_t s64 = static_cast<uint64_t>(seed);
  dropoutLoop(x.data, out.data, out.length, static_cast<float>(1.0 - rate), static_cast<uint32_t>(s64 ^ (s64 >> 32)) * 0x9E3779B9u);
  return boolean(env, true);
}

// reluGradBias(dy, y, g, dbias, C): g = dy * step(y) (the relu gradient of a fused conv, read
// from its output) and dbias = the per-channel sum of g, in one pass instead of two.
napi_value ReluGradBias(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 5);
  Floats dy, y, g, db;
  int64_t C = 0;
  if (a.size() < 5 || !getFloats(env, a[0], dy) || !getFloats(env, a[1], y) || !getFloats(env, a[2], g) ||
      !getFloats(env, a[3], db) || napi_get_value_int64(env, a[4], &C) != napi_ok)
    return typeError(env, "reluGradBias(dy, y, g, dbias, C)");
  if (!channelsFit(y, C, {&db}) || dy.length != y.length || g.length != y.length || y.length == 0) return boolean(env, false);
  const int64_t rows = static_cast<int64_t>(y.length) / C;
  const float *ds = dy.data, *ys = y.data;
  float *gs = g.data;
  std::vector<double> s(C), unused(C);
  channelSums(rows, C, s.data(), unused.data(), [ds, ys, gs, C](int64_t r, float *f1, float *) {
    const float *dr = ds + r * C, *yr = ys + r * C;
    float *gr = gs + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; c++) {
      const float v = yr[c];
      const float step = v != v ? v : (v > 0.f ? 1.f : 0.f);
      const float o = dr[c] * step;
      gr[c] = o;
      f1[c] += o;
    }
  });
  for (int64_t c = 0; c < C; c++) db.data[c] = static_cast<float>(s[c]);
  return boolean(env, true);
}

}  // namespace visemo
