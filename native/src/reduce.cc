// Sums over a contiguous run of axes: the kernel of src/engine/native/kernels-reduce.ts.
#include <vector>

#include "common.h"
#include "kernels.h"

namespace visemo {

// sum(x, out, outer, reduce, inner): x viewed as [outer, reduce, inner], out [outer, inner].
// Accumulates in double, as the JavaScript kernel does, so long sums agree with it.
napi_value Sum(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 5);
  Floats x, out;
  int64_t outer = 0, reduce = 0, inner = 0;
  if (a.size() < 5 || !getFloats(env, a[0], x) || !getFloats(env, a[1], out) ||
      napi_get_value_int64(env, a[2], &outer) != napi_ok || napi_get_value_int64(env, a[3], &reduce) != napi_ok ||
      napi_get_value_int64(env, a[4], &inner) != napi_ok)
    return typeError(env, "sum(x, out, outer, reduce, inner)");
  if (outer < 1 || reduce < 1 || inner < 1 || x.length != static_cast<size_t>(outer * reduce * inner) ||
      out.length != static_cast<size_t>(outer * inner))
    return boolean(env, false);
  const bool par = x.length >= PARALLEL_MIN;
  if (inner == 1) {
#pragma omp parallel for if (par && outer > 1) schedule(static)
    for (int64_t o = 0; o < outer; o++) {
      const float *p = x.data + o * reduce;
      double s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t r = 0; r < reduce; r++) s += p[r];
      out.data[o] = static_cast<float>(s);
    }
    return boolean(env, true);
  }
  for (int64_t o = 0; o < outer; o++) {
    const float *base = x.data + o * reduce * inner;
    const int threads = par ? omp_get_max_threads() : 1;
    std::vector<double> acc(static_cast<size_t>(threads) * inner, 0.0);
#pragma omp parallel num_threads(threads)
    {
      double *mine = acc.data() + static_cast<size_t>(omp_get_thread_num()) * inner;
#pragma omp for schedule(static)
      for (int64_t r = 0; r < reduce; r++) {
        const float *row = base + r * inner;
#pragma omp simd
        for (int64_t j = 0; j < inner; j++) mine[j] += row[j];
      }
    }
    for (int64_t j = 0; j < inner; j++) {
      double s = 0;
      for (int t = 0; t < threads; t++) s += acc[static_cast<size_t>(t) * inner + j];
      out.data[o * inner + j] = static_cast<float>(s);
    }
  }
  return boolean(env, true);
}

}  // namespace visemo
