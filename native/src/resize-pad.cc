// Bilinear resizing and constant padding for the face detectors at inference, as OpenMP loops:
// two of the kernels of src/engine/native/kernels-conv.ts.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "common.h"
#include "kernels.h"

namespace visemo {

// padConstant(x, y, inShape, outShape, before, value): tfjs' PadV2 (the tiny detector pads
// before each pooling, BlazeFace pads frames to squares). y is filled with `value`, then each
// innermost row of x is copied to its place. Shapes of at most 8 dimensions.
napi_value PadConstant(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 6);
  Floats x, y;
  std::vector<int64_t> in, out, before;
  double value = 0;
  if (a.size() < 6 || !getFloats(env, a[0], x) || !getFloats(env, a[1], y) || !getShape(env, a[2], in, 8) ||
      !getInts(env, a[3], out, in.size()) || !getInts(env, a[4], before, in.size()) || napi_get_value_double(env, a[5], &value) != napi_ok)
    return typeError(env, "padConstant(x, y, inShape, outShape, before, value)");
  const size_t rank = in.size();
  int64_t inN = 1, outN = 1;
  for (size_t d = 0; d < rank; d++) {
    if (in[d] < 0 || before[d] < 0 || before[d] + in[d] > out[d]) return boolean(env, false);
    inN *= in[d];
    outN *= out[d];
  }
  if (x.length != static_cast<size_t>(inN) || y.length != static_cast<size_t>(outN)) return boolean(env, false);
  const float v = static_cast<float>(value);
  float *yo = y.data;
#pragma omp parallel for simd if (y.length >= PARALLEL_MIN) schedule(static)
  for (int64_t i = 0; i < outN; i++) yo[i] = v;
  if (inN == 0) return boolean(env, true);
  const int r = static_cast<int>(rank);
  std::vector<int64_t> outStride(rank, 1);
  for (int d = r - 2; d >= 0; d--) outStride[d] = outStride[d + 1] * out[d + 1];
  const int64_t inner = in[r - 1];
  const int64_t rows = inN / inner;
#pragma omp parallel for if (x.length >= PARALLEL_MIN) schedule(static)
  for (int64_t row = 0; row < rows; row++) {
    int64_t rest = row, off = before[r - 1];
    for (int d = r - 2; d >= 0; d--) {
      const int64_t i = rest % in[d];
      rest /= in[d];
      off += (i + before[d]) * outStride[d];
    }
    std::memcpy(yo + off, x.data + row * inner, static_cast<size_t>(inner) * sizeof(float));
  }
  return boolean(env, true);
}

// resizeBilinear(x, y, params): NHWC float images, tfjs' CPU kernel's arithmetic (in double, as
// its JavaScript does) so results agree to float rounding. params: ResizeParams.
napi_value ResizeBilinear(napi_env env, napi_callback_info info) {
  Floats x, y;
  ResizeParams p;
  if (!xyParams(env, info, x, y, p)) return typeError(env, "resizeBilinear(x, y, ResizeParams)");
  const int64_t N = p.batch, H = p.inHeight, W = p.inWidth, C = p.channels, OH = p.outHeight, OW = p.outWidth;
  const bool align = p.alignCorners != 0, half = p.halfPixelCenters != 0;
  if (N < 1 || H < 1 || W < 1 || C < 1 || OH < 1 || OW < 1 || x.length != static_cast<size_t>(N * H * W * C) ||
      y.length != static_cast<size_t>(N * OH * OW * C))
    return boolean(env, false);
  const double rowRatio = static_cast<double>(align && OH > 1 ? H - 1 : H) / static_cast<double>(align && OH > 1 ? OH - 1 : OH);
  const double colRatio = static_cast<double>(align && OW > 1 ? W - 1 : W) / static_cast<double>(align && OW > 1 ? OW - 1 : OW);
  // Column sources once per call: the same for every row.
  std::vector<int64_t> c0(OW), c1(OW);
  std::vector<double> cf(OW);
  for (int64_t c = 0; c < OW; c++) {
    const double src = half ? colRatio * (c + 0.5) - 0.5 : colRatio * c;
    c0[c] = std::max<int64_t>(0, static_cast<int64_t>(std::floor(src)));
    cf[c] = src - c0[c];
    c1[c] = std::min<int64_t>(W - 1, static_cast<int64_t>(std::ceil(src)));
  }
#pragma omp parallel for collapse(2) if (y.length >= PARALLEL_MIN) schedule(static)
  for (int64_t n = 0; n < N; n++) {
    for (int64_t r = 0; r < OH; r++) {
      const double src = half ? rowRatio * (r + 0.5) - 0.5 : rowRatio * r;
      const int64_t r0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(src)));
      const double rf = src - r0;
      const int64_t r1 = std::min<int64_t>(H - 1, static_cast<int64_t>(std::ceil(src)));
      const float *top = x.data + (n * H + r0) * W * C;
      const float *bot = x.data + (n * H + r1) * W * C;
      float *o = y.data + (n * OH + r) * OW * C;
      for (int64_t c = 0; c < OW; c++) {
        const float *tl = top + c0[c] * C, *tr = top + c1[c] * C, *bl = bot + c0[c] * C, *br = bot + c1[c] * C;
        const double f = cf[c];
        for (int64_t d = 0; d < C; d++) {
          const double t = tl[d] + (static_cast<double>(tr[d]) - tl[d]) * f;
          const double b = bl[d] + (static_cast<double>(br[d]) - bl[d]) * f;
          o[c * C + d] = static_cast<float>(t + (b - t) * rf);
        }
      }
    }
  }
  return boolean(env, true);
}

// sum(x, out, outer, reduce, inner): x viewed as [outer, reduce, inner], out [outer, inner].

}  // namespace visemo
