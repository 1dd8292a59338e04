// Element-wise kernels as OpenMP loops (the CPU backend's are plain JavaScript loops, which
// dominate a training step once the convolutions are native): the kernels of
// src/engine/native/kernels-elementwise.ts, their operations named by generated/params.h's enums.
#include <cmath>
#include <vector>

#include "common.h"
#include "kernels.h"

namespace visemo {

namespace {

// An operand of a binary op: `period` 0 = same length as the output, 1 = a scalar, otherwise
// the operand repeats every `period` elements (a bias of C values added to N*H*W*C).
struct Operand {
  const float *p;
  size_t period;
};

template <typename Op>
void binaryLoop(Operand a, Operand b, float *out, size_t n, Op op) {
  const bool par = n >= PARALLEL_MIN;
  if (a.period == 0 && b.period == 0) {
#pragma omp parallel for simd if (par) schedule(static)
    for (size_t i = 0; i < n; i++) out[i] = op(a.p[i], b.p[i]);
  } else if (a.period == 0 && b.period == 1) {
    const float bv = b.p[0];
#pragma omp parallel for simd if (par) schedule(static)
    for (size_t i = 0; i < n; i++) out[i] = op(a.p[i], bv);
  } else if (a.period == 1 && b.period == 0) {
    const float av = a.p[0];
#pragma omp parallel for simd if (par) schedule(static)
    for (size_t i = 0; i < n; i++) out[i] = op(av, b.p[i]);
  } else {
    // Periodic operand(s): walk the output in rows of the period.
    const size_t period = a.period > 1 ? a.period : b.period;
    const size_t rows = n / period;
#pragma omp parallel for if (par) schedule(static)
    for (size_t r = 0; r < rows; r++) {
      const size_t base = r * period;
      const float *ap = a.period == 0 ? a.p + base : a.p;
      const float *bp = b.period == 0 ? b.p + base : b.p;
      float *o = out + base;
      if (a.period == 1) {
        const float av = a.p[0];
#pragma omp simd
        for (size_t j = 0; j < period; j++) o[j] = op(av, bp[j]);
      } else if (b.period == 1) {
        const float bv = b.p[0];
#pragma omp simd
        for (size_t j = 0; j < period; j++) o[j] = op(ap[j], bv);
      } else {
#pragma omp simd
        for (size_t j = 0; j < period; j++) o[j] = op(ap[j], bp[j]);
      }
    }
  }
}

// Calls run(op) with the element-wise operation of code `op` (a BinaryOp); false for an unknown
// code. Max and min propagate NaN, as in tfjs.
template <typename Run>
bool withBinaryOp(int32_t op, Run run) {
  switch (static_cast<BinaryOp>(op)) {
    case BinaryOp::Add: run([](float u, float v) { return u + v; }); return true;
    case BinaryOp::Sub: run([](float u, float v) { return u - v; }); return true;
    case BinaryOp::Multiply: run([](float u, float v) { return u * v; }); return true;
    case BinaryOp::RealDiv: run([](float u, float v) { return u / v; }); return true;
    case BinaryOp::Maximum: run([](float u, float v) { return u != u || v != v ? NAN : (u > v ? u : v); }); return true;
    case BinaryOp::Minimum: run([](float u, float v) { return u != u || v != v ? NAN : (u < v ? u : v); }); return true;
    default: return false;
  }
}

}  // namespace

// binary(op, a, aPeriod, b, bPeriod, out)
napi_value Binary(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 6);
  int32_t op = -1, ap = 0, bp = 0;
  Floats A, B, out;
  if (a.size() < 6 || napi_get_value_int32(env, a[0], &op) != napi_ok || !getFloats(env, a[1], A) ||
      napi_get_value_int32(env, a[2], &ap) != napi_ok || !getFloats(env, a[3], B) ||
      napi_get_value_int32(env, a[4], &bp) != napi_ok || !getFloats(env, a[5], out))
    return typeError(env, "binary(op, a, aPeriod, b, bPeriod, out)");
  const size_t n = out.length;
  auto fits = [n](size_t len, int32_t period) {
    return period == 0 ? len == n : (period > 0 && len == static_cast<size_t>(period) && n % period == 0);
  };
  if (!fits(A.length, ap) || !fits(B.length, bp) || (ap > 1 && bp > 1 && ap != bp)) return boolean(env, false);
  Operand x{A.data, static_cast<size_t>(ap)}, y{B.data, static_cast<size_t>(bp)};
  return boolean(env, withBinaryOp(op, [&](auto f) { binaryLoop(x, y, out.data, n, f); }));
}

namespace {

// Any other broadcast (a [N,1,1,C] gradient spread over [N,H,W,C], say): operands addressed by
// strides, 0 along each broadcast dimension; rows of the last dimension stay contiguous loops.
template <typename Op>
void stridedLoop(const float *a, const int64_t *sa, const float *b, const int64_t *sb, float *out, const int64_t *shape, int rank, Op op) {
  const int64_t inner = shape[rank - 1];
  int64_t outer = 1;
  for (int d = 0; d < rank - 1; d++) outer *= shape[d];
  const int64_t la = sa[rank - 1], lb = sb[rank - 1];
#pragma omp parallel for if (outer * inner >= static_cast<int64_t>(PARALLEL_MIN)) schedule(static)
  for (int64_t o = 0; o < outer; o++) {
    int64_t rest = o, offA = 0, offB = 0;
    for (int d = rank - 2; d >= 0; d--) {
      const int64_t i = rest % shape[d];
      rest /= shape[d];
      offA += i * sa[d];
      offB += i * sb[d];
    }
    const float *ap = a + offA;
    const float *bp = b + offB;
    float *op_ = out + o * inner;
    if (la == 1 && lb == 1) {
#pragma omp simd
      for (int64_t j = 0; j < inner; j++) op_[j] = op(ap[j], bp[j]);
    } else if (la == 0 && lb == 1) {
      const float av = ap[0];
#pragma omp simd
      for (int64_t j = 0; j < inner; j++) op_[j] = op(av, bp[j]);
    } else if (la == 1 && lb == 0) {
      const float bv = bp[0];
#pragma omp simd
      for (int64_t j = 0; j < inner; j++) op_[j] = op(ap[j], bv);
    } else {
      for (int64_t j = 0; j < inner; j++) op_[j] = op(ap[j * la], bp[j * lb]);
    }
  }
}

}  // namespace

// binaryBroadcast(op, a, aStrides, b, bStrides, out, outShape): strides and shape Int32Arrays of
// one rank (at most 8), a stride 0 where that operand is broadcast.
napi_value BinaryBroadcast(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 7);
  int32_t op = -1;
  Floats A, B, out;
  std::vector<int64_t> sa, sb, shape;
  const char *signature = "binaryBroadcast(op, a, aStrides, b, bStrides, out, outShape)";
  if (a.size() < 7 || napi_get_value_int32(env, a[0], &op) != napi_ok || !getFloats(env, a[1], A) || !getFloats(env, a[3], B) ||
      !getFloats(env, a[5], out))
    return typeError(env, signature);
  if (!getShape(env, a[6], shape, 8) || !getInts(env, a[2], sa, shape.size()) || !getInts(env, a[4], sb, shape.size()))
    return typeError(env, signature);
  const size_t rank = shape.size();
  int64_t n = 1, lastA = 0, lastB = 0;
  for (size_t d = 0; d < rank; d++) {
    if (shape[d] < 1 || sa[d] < 0 || sb[d] < 0) return boolean(env, false);
    n *= shape[d];
    lastA += (shape[d] - 1) * sa[d];
    lastB += (shape[d] - 1) * sb[d];
  }
  if (out.length != static_cast<size_t>(n) || static_cast<size_t>(lastA) >= A.length || static_cast<size_t>(lastB) >= B.length) return boolean(env, false);
  const int r = static_cast<int>(rank);
  return boolean(env, withBinaryOp(op, [&](auto f) { stridedLoop(A.data, sa.data(), B.data, sb.data(), out.data, shape.data(), r, f); }));
}

namespace {

template <typename Op>
void unaryLoop(const float *x, float *out, size_t n, Op op) {
#pragma omp parallel for simd if (n >= PARALLEL_MIN) schedule(static)
  for (size_t i = 0; i < n; i++) out[i] = op(x[i]);
}

// A unary op with parameters, passed as arguments rather than captured: with alpha captured in a
// lambda, GCC cannot prove the stores leave it alone and gives up vectorising.
template <typename Op>
void paramLoop(const float *__restrict x, float *__restrict out, size_t n, float a, float b, Op op) {
#pragma omp parallel for simd if (n >= PARALLEL_MIN) schedule(static)
  for (size_t i = 0; i < n; i++) out[i] = op(x[i], a, b);
}

}  // namespace

// unary(op, x, out, alpha[, beta]); op: a UnaryOp (Step reads alpha, Clip alpha and beta).
napi_value Unary(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 5);
  int32_t op = -1;
  double alpha = 0, beta = 0;
  Floats x, out;
  if (a.size() < 4 || napi_get_value_int32(env, a[0], &op) != napi_ok || !getFloats(env, a[1], x) ||
      !getFloats(env, a[2], out) || napi_get_value_double(env, a[3], &alpha) != napi_ok || x.length != out.length)
    return typeError(env, "unary(op, x, out, alpha[, beta])");
  if (a.size() > 4 && napi_get_value_double(env, a[4], &beta) != napi_ok) return typeError(env, "unary(op, x, out, alpha[, beta])");
  const float al = static_cast<float>(alpha), be = static_cast<float>(beta);
  const size_t n = x.length;
  switch (static_cast<UnaryOp>(op)) {
    // NaN passes through relu and step as it does in tfjs.
    case UnaryOp::Relu: unaryLoop(x.data, out.data, n, [](float v) { return v < 0.f ? 0.f : v; }); break;
    case UnaryOp::Step: paramLoop(x.data, out.data, n, al, be, [](float v, float a, float) { return v != v ? v : (v > 0.f ? 1.f : a); }); break;
    case UnaryOp::Floor: unaryLoop(x.data, out.data, n, [](float v) { return std::floor(v); }); break;
    case UnaryOp::Sqrt: unaryLoop(x.data, out.data, n, [](float v) { return std::sqrt(v); }); break;
    case UnaryOp::Square: unaryLoop(x.data, out.data, n, [](float v) { return v * v; }); break;
    case UnaryOp::Neg: unaryLoop(x.data, out.data, n, [](float v) { return -v; }); break;
    case UnaryOp::Exp: unaryLoop(x.data, out.data, n, [](float v) { return std::exp(v); }); break;
    case UnaryOp::Log: unaryLoop(x.data, out.data, n, [](float v) { return std::log(v); }); break;
    case UnaryOp::Abs: unaryLoop(x.data, out.data, n, [](float v) { return std::fabs(v); }); break;
    // clip to [alpha, beta] (relu6 in MobileNets); NaN passes through, as in tfjs.
    case UnaryOp::Clip: paramLoop(x.data, out.data, n, al, be, [](float v, float a, float b) { return v > b ? b : (v < a ? a : v); }); break;
    default: return boolean(env, false);
  }
  return boolean(env, true);
}

}  // namespace visemo
