// Per-channel sums over the rows of [rows, C] data (NHWC with its channels last) and the check
// that per-channel arrays have C values: shared by batch normalisation (batchnorm.cc) and the
// fused relu-and-bias gradient (training.cc).
#pragma once

#include <omp.h>

#include <algorithm>
#include <initializer_list>
#include <vector>

#include "common.h"

namespace visemo {

// Per-channel sums over the rows of [rows, C] data, split over threads by blocks of rows: each
// block sums in float (ROW_BLOCK terms, vectorised across channels), blocks add up in double.
constexpr int64_t ROW_BLOCK = 32;

// sums(t1, t2) over rows: `terms(row, f1, f2)` adds one row's terms into the float partials.
template <typename Terms>
void channelSums(int64_t rows, int64_t C, double *s1, double *s2, Terms terms) {
  const int64_t blocks = (rows + ROW_BLOCK - 1) / ROW_BLOCK;
  const int threads = static_cast<size_t>(rows * C) >= PARALLEL_MIN ? std::max(1, std::min<int>(omp_get_max_threads(), static_cast<int>(blocks))) : 1;
  std::vector<double> acc(static_cast<size_t>(threads) * 2 * C, 0.0);
#pragma omp parallel num_threads(threads)
  {
    double *a1 = acc.data() + static_cast<size_t>(omp_get_thread_num()) * 2 * C;
    double *a2 = a1 + C;
    std::vector<float> p1(C), p2(C);
    float *f1 = p1.data(), *f2 = p2.data();
#pragma omp for schedule(static)
    for (int64_t b = 0; b < blocks; b++) {
      std::fill(p1.begin(), p1.end(), 0.f);
      std::fill(p2.begin(), p2.end(), 0.f);
      const int64_t end = std::min(rows, (b + 1) * ROW_BLOCK);
      for (int64_t r = b * ROW_BLOCK; r < end; r++) terms(r, f1, f2);
      for (int64_t c = 0; c < C; c++) {
        a1[c] += f1[c];
        a2[c] += f2[c];
      }
    }
  }
  for (int64_t c = 0; c < C; c++) {
    double u = 0, v = 0;
    for (int t = 0; t < threads; t++) {
      u += acc[static_cast<size_t>(t) * 2 * C + c];
      v += acc[static_cast<size_t>(t) * 2 * C + C + c];
    }
    s1[c] = u;
    s2[c] = v;
  }
}


inline bool channelsFit(const Floats &x, int64_t C, std::initializer_list<const Floats *> perChannel) {
  if (C < 1 || x.length % static_cast<size_t>(C) != 0) return false;
  for (const Floats *f : perChannel)
    if (f->data && f->length != static_cast<size_t>(C)) return false;
  return true;
}

}  // namespace visemo
