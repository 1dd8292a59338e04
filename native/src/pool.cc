// 2-D max pooling and its gradient, NHWC: a oneDNN primitive, or for the 2x2 pooling of the
// paper's net one streaming loop. Two of the kernels of src/engine/native/kernels-conv.ts.
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common.h"
#include "engine.h"
#include "kernels.h"

namespace visemo {

namespace {

// 2-D max pooling, NHWC (PoolParams).
struct PoolShape {
  memory::dims src, dst, kernel, strides, padL, padR;
  explicit PoolShape(const PoolParams &p) {
    src = {p.batch, p.channels, p.inHeight, p.inWidth};
    dst = {p.batch, p.channels, p.outHeight, p.outWidth};
    kernel = {p.filterHeight, p.filterWidth};
    strides = {p.strideHeight, p.strideWidth};
    padL = {p.padTop, p.padLeft};
    padR = {p.padBottom, p.padRight};
  }
  memory::desc srcMd() const { return memory::desc(src, dt::f32, tag::nhwc); }
  memory::desc dstMd() const { return memory::desc(dst, dt::f32, tag::nhwc); }
  pooling_forward::desc fwdDesc(prop_kind kind) const {
    return pooling_forward::desc(kind, algorithm::pooling_max, srcMd(), dstMd(), strides, kernel, padL, padR);
  }
};

struct PoolFwd {
  pooling_forward::primitive_desc pd;
  pooling_forward prim;
};
thread_local std::unordered_map<std::string, std::unique_ptr<PoolFwd>> poolFwdCache;

// The paper's and the visemo net's pooling (2x2, stride 2, no padding) as one streaming pass over
// both threads: oneDNN's NHWC pooling ran at about 6 GB/s here. tfjs' rule for the maximum: start
// from -inf and take strictly greater values, so a NaN is never the maximum.
void maxPool2x2(const float *x, float *y, int64_t N, int64_t H, int64_t W, int64_t C) {
  const int64_t OH = H / 2, OW = W / 2;
#pragma omp parallel for collapse(2) if (N * H * W * C >= static_cast<int64_t>(PARALLEL_MIN)) schedule(static)
  for (int64_t n = 0; n < N; n++) {
    for (int64_t oh = 0; oh < OH; oh++) {
      const int64_t row0 = (n * H + 2 * oh) * W, row1 = row0 + W;
      float *out = y + (n * OH + oh) * OW * C;
      for (int64_t ow = 0; ow < OW; ow++) {
        const float *a = x + (row0 + 2 * ow) * C, *b = a + C, *e = x + (row1 + 2 * ow) * C, *f = e + C;
        float *o = out + ow * C;
#pragma omp simd
        for (int64_t c = 0; c < C; c++) {
          float m = -INFINITY;
          m = a[c] > m ? a[c] : m;
          m = b[c] > m ? b[c] : m;
          m = e[c] > m ? e[c] : m;
          m = f[c] > m ? f[c] : m;
          o[c] = m;
        }
      }
    }
  }
}

bool isPool2x2(const PoolParams &p) {
  return p.filterHeight == 2 && p.filterWidth == 2 && p.strideHeight == 2 && p.strideWidth == 2 && p.padTop == 0 && p.padLeft == 0 &&
         p.outHeight == p.inHeight / 2 && p.outWidth == p.inWidth / 2;
}

}  // namespace

// maxPool(x, y, params)
napi_value MaxPool(napi_env env, napi_callback_info info) {
  Floats x, y;
  PoolParams p;
  if (!xyParams(env, info, x, y, p)) return typeError(env, "maxPool(x, y, PoolParams)");
  const int64_t N = p.batch, H = p.inHeight, W = p.inWidth, C = p.channels;
  if (isPool2x2(p) && x.length == static_cast<size_t>(N * H * W * C) && y.length == static_cast<size_t>(N * p.outHeight * p.outWidth * C)) {
    maxPool2x2(x.data, y.data, N, H, W, C);
    return boolean(env, true);
  }
  return guarded(env, "maxPool", [&] {
    const std::string key = keyOf("pf", p, {});
    PoolShape s(p);
    auto it = poolFwdCache.find(key);
    if (it == poolFwdCache.end()) {
      auto e = std::make_unique<PoolFwd>();
      e->pd = pooling_forward::primitive_desc(s.fwdDesc(prop_kind::forward_inference), cpuEngine());
      e->prim = pooling_forward(e->pd);
      it = poolFwdCache.emplace(key, std::move(e)).first;
    }
    it->second->prim.execute(cpuStream(), {{DNNL_ARG_SRC, memory(s.srcMd(), cpuEngine(), x.data)},
                                           {DNNL_ARG_DST, memory(s.dstMd(), cpuEngine(), y.data)}});
    cpuStream().wait();
  });
}

namespace {

// The paper's pooling (2x2, stride 2, no padding) in one pass that writes every element of dx
// once: each input position belongs to exactly one window, so no zeroing and no scatter.
void maxPoolGrad2x2(const float *x, const float *dy, float *dx, int64_t N, int64_t H, int64_t W, int64_t C) {
  const int64_t OH = H / 2, OW = W / 2;
#pragma omp parallel for collapse(2) if (N * H * W * C >= static_cast<int64_t>(PARALLEL_MIN)) schedule(static)
  for (int64_t n = 0; n < N; n++) {
    for (int64_t oh = 0; oh < OH; oh++) {
      const int64_t row0 = (n * H + 2 * oh) * W, row1 = row0 + W;
      for (int64_t ow = 0; ow < OW; ow++) {
        const int64_t i00 = (row0 + 2 * ow) * C, i01 = i00 + C, i10 = (row1 + 2 * ow) * C, i11 = i10 + C;
        const float *g = dy + ((n * OH + oh) * OW + ow) * C;
#pragma omp simd
        for (int64_t c = 0; c < C; c++) {
          const float a = x[i00 + c], b = x[i01 + c], e = x[i10 + c], f = x[i11 + c];
          // The first maximum in row-major window order takes the gradient, and a NaN never
          // does (tfjs' rule: start from -inf, take strictly greater). Written branch-free so
          // the loop vectorises.
          const bool aOk = a > -INFINITY;
          const float m0 = aOk ? a : -INFINITY;
          const bool bWins = b > m0;
          const float m1 = bWins ? b : m0;
          const bool eWins = e > m1;
          const float m2 = eWins ? e : m1;
          const bool fWins = f > m2;
          const float gv = g[c];
          dx[i11 + c] = fWins ? gv : 0.f;
          dx[i10 + c] = eWins && !fWins ? gv : 0.f;
          dx[i01 + c] = bWins && !eWins && !fWins ? gv : 0.f;
          dx[i00 + c] = aOk && !bWins && !eWins && !fWins ? gv : 0.f;
        }
      }
    }
  }
  // Odd height or width: the last row / column lies outside every window.
  if (H % 2 || W % 2) {
    for (int64_t n = 0; n < N; n++) {
      for (int64_t h = 0; h < H; h++) {
        for (int64_t w = 0; w < W; w++) {
          if (h < 2 * OH && w < 2 * OW) continue;
          std::memset(dx + ((n * H + h) * W + w) * C, 0, sizeof(float) * C);
        }
      }
    }
  }
}

}  // namespace

// maxPoolGrad(dy, x, dx, params): each output's gradient goes to the first maximum of its window,
// as tfjs' reference kernel does (oneDNN would need the forward's workspace, which tfjs does not
// keep between kernels, and may break ties differently). One pass over x, one over dx.
napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 4);
  Floats dy, x, dx;
  PoolParams p;
  if (a.size() < 4 || !getFloats(env, a[0], dy) || !getFloats(env, a[1], x) || !getFloats(env, a[2], dx) || !getParams(env, a[3], p))
    return typeError(env, "maxPoolGrad(dy, x, dx, PoolParams)");
  const int64_t N = p.batch, H = p.inHeight, W = p.inWidth, C = p.channels, OH = p.outHeight, OW = p.outWidth, KH = p.filterHeight,
                KW = p.filterWidth, SH = p.strideHeight, SW = p.strideWidth, PT = p.padTop, PL = p.padLeft;
  if (x.length != static_cast<size_t>(N * H * W * C) || dx.length != x.length ||
      dy.length != static_cast<size_t>(N * OH * OW * C))
    return boolean(env, false);
  const float *xs = x.data, *g = dy.data;
  float *d = dx.data;
  if (isPool2x2(p)) {
    maxPoolGrad2x2(xs, g, d, N, H, W, C);
    return boolean(env, true);
  }
#pragma omp parallel if (x.length >= PARALLEL_MIN)
  {
    std::vector<float> best(C);
    std::vector<int64_t> at(C);
#pragma omp for schedule(static)
    for (int64_t n = 0; n < N; n++) {
      const float *xn = xs + n * H * W * C;
      float *dn = d + n * H * W * C;
      std::memset(dn, 0, sizeof(float) * H * W * C);
      for (int64_t oh = 0; oh < OH; oh++) {
        for (int64_t ow = 0; ow < OW; ow++) {
          std::fill(best.begin(), best.end(), -INFINITY);
          std::fill(at.begin(), at.end(), -1);
          for (int64_t kh = 0; kh < KH; kh++) {
            const int64_t ih = oh * SH - PT + kh;
            if (ih < 0 || ih >= H) continue;
            for (int64_t kw = 0; kw < KW; kw++) {
              const int64_t iw = ow * SW - PL + kw;
              if (iw < 0 || iw >= W) continue;
              const int64_t pos = (ih * W + iw) * C;
              const float *xp = xn + pos;
              for (int64_t c = 0; c < C; c++) {
                if (xp[c] > best[c]) {
                  best[c] = xp[c];
                  at[c] = pos + c;
                }
              }
            }
          }
          const float *gp = g + ((n * OH + oh) * OW + ow) * C;
          for (int64_t c = 0; c < C; c++)
            if (at[c] >= 0) dn[at[c]] += gp[c];
        }
      }
    }
  }
  return boolean(env, true);
}

size_t poolPrimitiveCount() { return poolFwdCache.size(); }

}  // namespace visemo
