// Batch normalisation over the channels of NHWC data (the last axis): one pass for the batch
// statistics and one to normalise while training, two passes for the whole gradient. tfjs
// computes the same from moments + batchNorm and their gradients: about fifteen passes.
// The kernels of src/engine/native/kernels-batchnorm.ts.
#include <cmath>
#include <vector>

#include "channel-sums.h"
#include "common.h"
#include "kernels.h"

namespace visemo {

namespace {

// y = x * scale[c] + shift[c] over [rows, C].
void scaleShift(const float *x, const float *scale, const float *shift, float *y, int64_t rows, int64_t C) {
#pragma omp parallel for if (static_cast<size_t>(rows * C) >= PARALLEL_MIN) schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * C;
    float *yr = y + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; c++) yr[c] = xr[c] * scale[c] + shift[c];
  }
}

}  // namespace


// batchNormTrain(x, gamma, beta, y, mean, variance, C, epsilon): the batch's mean and (biased)
// variance per channel, as tfjs' moments gives them, and y normalised with them.
napi_value BatchNormTrain(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 8);
  Floats x, g, b, y, mean, var;
  int64_t C = 0;
  double eps = 0;
  if (a.size() < 8 || !getFloats(env, a[0], x) || !getFloats(env, a[1], g) || !getFloats(env, a[2], b) || !getFloats(env, a[3], y) ||
      !getFloats(env, a[4], mean) || !getFloats(env, a[5], var) || napi_get_value_int64(env, a[6], &C) != napi_ok ||
      napi_get_value_double(env, a[7], &eps) != napi_ok)
    return typeError(env, "batchNormTrain(x, gamma, beta, y, mean, variance, C, epsilon)");
  if (!channelsFit(x, C, {&g, &b, &mean, &var}) || y.length != x.length || x.length == 0) return boolean(env, false);
  const int64_t rows = static_cast<int64_t>(x.length) / C;
  // Sums of x - x[first row]: a shift by a sample of the channel keeps E[d^2] - E[d]^2 exact
  // enough even where the mean is large against the spread.
  const float *xs = x.data;
  std::vector<double> s1(C), s2(C);
  channelSums(rows, C, s1.data(), s2.data(), [xs, C](int64_t r, float *f1, float *f2) {
    const float *row = xs + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; c++) {
      const float d = row[c] - xs[c];
      f1[c] += d;
      f2[c] += d * d;
    }
  });
  std::vector<float> scale(C), shift(C);
  for (int64_t c = 0; c < C; c++) {
    const double m = s1[c] / rows;
    const double v = std::max(0.0, s2[c] / rows - m * m);
    const float meanF = static_cast<float>(xs[c] + m);
    mean.data[c] = meanF;
    var.data[c] = static_cast<float>(v);
    const float inv = static_cast<float>(1.0 / std::sqrt(static_cast<double>(var.data[c]) + eps));
    scale[c] = g.data[c] * inv;
    shift[c] = b.data[c] - meanF * scale[c];
  }
  scaleShift(xs, scale.data(), shift.data(), y.data, rows, C);
  return boolean(env, true);
}

// batchNormApply(x, mean, variance, gamma|null, beta|null, y, C, epsilon): tfjs' FusedBatchNorm
// with per-channel statistics (inference, or a training step's own batchNorm call).
napi_value BatchNormApply(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 8);
  Floats x, mean, var, g, b, y;
  int64_t C = 0;
  double eps = 0;
  if (a.size() < 8 || !getFloats(env, a[0], x) || !getFloats(env, a[1], mean) || !getFloats(env, a[2], var) ||
      !getFloats(env, a[3], g, true) || !getFloats(env, a[4], b, true) || !getFloats(env, a[5], y) ||
      napi_get_value_int64(env, a[6], &C) != napi_ok || napi_get_value_double(env, a[7], &eps) != napi_ok)
    return typeError(env, "batchNormApply(x, mean, variance, gamma|null, beta|null, y, C, epsilon)");
  if (!channelsFit(x, C, {&mean, &var, &g, &b}) || y.length != x.length) return boolean(env, false);
  const int64_t rows = static_cast<int64_t>(x.length) / C;
  std::vector<float> scale(C), shift(C);
  for (int64_t c = 0; c < C; c++) {
    const float inv = static_cast<float>(1.0 / std::sqrt(static_cast<double>(var.data[c]) + eps));
    scale[c] = (g.data ? g.data[c] : 1.f) * inv;
    shift[c] = (b.data ? b.data[c] : 0.f) - mean.data[c] * scale[c];
  }
  scaleShift(x.data, scale.data(), shift.data(), y.data, rows, C);
  return boolean(env, true);
}

// batchNormGrad(dy, x, mean, variance, gamma, dx, dgamma, dbeta, C, epsilon): the gradient of
// training-mode batch norm through the batch statistics too, in two passes:
//   dbeta = sum(dy), dgamma = sum(dy * xhat),
//   dx = gamma / sigma * (dy - dbeta / n - xhat * dgamma / n).
napi_value BatchNormGrad(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 10);
  Floats dy, x, mean, var, g, dx, dg, db;
  int64_t C = 0;
  double eps = 0;
  if (a.size() < 10 || !getFloats(env, a[0], dy) || !getFloats(env, a[1], x) || !getFloats(env, a[2], mean) ||
      !getFloats(env, a[3], var) || !getFloats(env, a[4], g) || !getFloats(env, a[5], dx) || !getFloats(env, a[6], dg) ||
      !getFloats(env, a[7], db) || napi_get_value_int64(env, a[8], &C) != napi_ok || napi_get_value_double(env, a[9], &eps) != napi_ok)
    return typeError(env, "batchNormGrad(dy, x, mean, variance, gamma, dx, dgamma, dbeta, C, epsilon)");
  if (!channelsFit(x, C, {&mean, &var, &g, &dg, &db}) || dy.length != x.length || dx.length != x.length || x.length == 0)
    return boolean(env, false);
  const int64_t rows = static_cast<int64_t>(x.length) / C;
  const float *xs = x.data, *gs = dy.data, *ms = mean.data;
  std::vector<double> sdy(C), sdyx(C);
  channelSums(rows, C, sdy.data(), sdyx.data(), [xs, gs, ms, C](int64_t r, float *f1, float *f2) {
    const float *xr = xs + r * C, *gr = gs + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; c++) {
      f1[c] += gr[c];
      f2[c] += gr[c] * (xr[c] - ms[c]);
    }
  });
  std::vector<float> ca(C), cb(C), cd(C);
  for (int64_t c = 0; c < C; c++) {
    const double inv = 1.0 / std::sqrt(static_cast<double>(var.data[c]) + eps);
    db.data[c] = static_cast<float>(sdy[c]);
    dg.data[c] = static_cast<float>(sdyx[c] * inv);
    const double k = g.data[c] * inv;
    ca[c] = static_cast<float>(k);
    cb[c] = static_cast<float>(-k * inv * inv * sdyx[c] / rows);
    cd[c] = static_cast<float>(-k * sdy[c] / rows);
  }
  float *out = dx.data;
  const float *A = ca.data(), *B = cb.data(), *D = cd.data();
#pragma omp parallel for if (x.length >= PARALLEL_MIN) schedule(static)
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = xs + r * C, *gr = gs + r * C;
    float *o = out + r * C;
#pragma omp simd
    for (int64_t c = 0; c < C; c++) o[c] = A[c] * gr[c] + B[c] * (xr[c] - ms[c]) + D[c];
  }
  return boolean(env, true);
}

}  // namespace visemo
