// visemo's native kernels: a thin N-API layer over oneDNN (Debian libdnnl-dev, 2.x API).
//
// Every function works in place on Float32Array buffers owned by the tfjs CPU backend: the
// JavaScript side allocates the output and passes shapes as an Int32Array. Primitives are built
// once per shape and kept in a cache, because building one costs far more than running it at
// the batch sizes we see. A function returns false (instead of throwing) when oneDNN has no
// implementation for the request, so the caller can fall back to the JavaScript kernel.
#include <node_api.h>
#include <dnnl.hpp>
#include <omp.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <atomic>
#include <memory>
#include <type_traits>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

engine &cpuEngine() {
  static engine e(engine::kind::cpu, 0);
  return e;
}

stream &cpuStream() {
  // One stream per thread: each worker_threads thread of the server runs its own primitives.
  thread_local stream s(cpuEngine());
  return s;
}

// Below this many elements a loop stays on one thread: waking the OpenMP team costs more.
constexpr size_t PARALLEL_MIN = 1 << 15;

bool debug() {
  static const bool on = std::getenv("VISEMO_DEBUG") != nullptr;
  return on;
}

// ---------------------------------------------------------------------------------------------
// N-API helpers

struct Floats {
  float *data = nullptr;
  size_t length = 0;
};

bool getFloats(napi_env env, napi_value v, Floats &out, bool allowNull = false) {
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

bool getInts(napi_env env, napi_value v, std::vector<int64_t> &out, size_t expected) {
  bool isTyped = false;
  napi_is_typedarray(env, v, &isTyped);
  if (!isTyped) return false;
  napi_typedarray_type type;
  size_t length;
  void *data;
  napi_value buf;
  size_t offset;
  napi_get_typedarray_info(env, v, &type, &length, &data, &buf, &offset);
  if (type != napi_int32_array || length != expected) return false;
  const int32_t *p = static_cast<const int32_t *>(data);
  out.assign(p, p + length);
  return true;
}

// An Int32Array of any length from 1 to maxLength (a shape, its strides): its length is the rank
// the other arrays of the call must match.
bool getShape(napi_env env, napi_value v, std::vector<int64_t> &out, size_t maxLength) {
  bool isTyped = false;
  napi_is_typedarray(env, v, &isTyped);
  if (!isTyped) return false;
  size_t length = 0;
  napi_get_typedarray_info(env, v, nullptr, &length, nullptr, nullptr, nullptr);
  return length >= 1 && length <= maxLength && getInts(env, v, out, length);
}

bool getBool(napi_env env, napi_value v) {
  bool b = false;
  napi_get_value_bool(env, v, &b);
  return b;
}

napi_value boolean(napi_env env, bool b) {
  napi_value r;
  napi_get_boolean(env, b, &r);
  return r;
}

napi_value typeError(napi_env env, const char *what) {
  napi_throw_type_error(env, nullptr, what);
  return nullptr;
}

std::vector<napi_value> args(napi_env env, napi_callback_info info, size_t n) {
  std::vector<napi_value> a(n);
  size_t got = n;
  napi_get_cb_info(env, info, &got, a.data(), nullptr, nullptr);
  if (got < n) a.resize(got);
  return a;
}

// The key names the thread count too: oneDNN splits a primitive's work for the threads there are
// when it is created, so a primitive built for one thread keeps running on one after setThreads(2).
std::string keyOf(const char *kind, const std::vector<int64_t> &p, std::initializer_list<int64_t> extra) {
  std::string k(kind);
  for (int64_t v : p) k += ',' + std::to_string(v);
  for (int64_t v : extra) k += ';' + std::to_string(v);
  k += '@' + std::to_string(omp_get_max_threads());
  return k;
}

// Runs `body`; a oneDNN error (no implementation for this shape, bad dims) turns into `false`.
// The primitive caches (and the weights scratch inside them) are thread_local: worker_threads
// that load the addon (the server's recognition workers) each build and run their own, at once.
template <typename F>
napi_value guarded(napi_env env, const char *name, F body) {
  try {
    body();
    return boolean(env, true);
  } catch (const dnnl::error &e) {
    if (debug()) std::fprintf(stderr, "visemo native %s: %s\n", name, e.what());
    return boolean(env, false);
  } catch (const std::exception &e) {
    if (debug()) std::fprintf(stderr, "visemo native %s: %s\n", name, e.what());
    return boolean(env, false);
  }
}

// A weights buffer in oneDNN's preferred layout, reordered from/to the user's HWIO array.
struct Staged {
  memory::desc user;
  memory::desc internal;
  bool needsReorder = false;
  memory buffer;  // internal-layout scratch, allocated once per cached primitive
  reorder toInternal, toUser;

  void init(const memory::desc &u, const memory::desc &i, bool in, bool out) {
    user = u;
    internal = i;
    needsReorder = !(u == i);
    if (!needsReorder) return;
    buffer = memory(i, cpuEngine());
    memory uMem(u, cpuEngine(), DNNL_MEMORY_NONE);
    if (in) toInternal = reorder(uMem, buffer);
    if (out) toUser = reorder(buffer, uMem);
  }
  // Memory to hand the primitive, copying the user's data in first when layouts differ.
  memory input(float *userData) {
    memory u(user, cpuEngine(), userData);
    if (!needsReorder) return u;
    toInternal.execute(cpuStream(), u, buffer);
    return buffer;
  }
  memory outputFor(float *userData) { return needsReorder ? buffer : memory(user, cpuEngine(), userData); }
  void finishOutput(float *userData) {
    if (!needsReorder) return;
    memory u(user, cpuEngine(), userData);
    toUser.execute(cpuStream(), buffer, u);
  }
};

// ---------------------------------------------------------------------------------------------
// 2-D convolution, NHWC activations and HWIO filters as tfjs stores them.
// params: N,H,W,C, KH,KW,OC, OH,OW, strideH,strideW, dilationH,dilationW, padTop,padLeft,padBottom,padRight

constexpr size_t CONV_PARAMS = 17;

struct ConvShape {
  memory::dims src, wei, dst, bias, strides, dilates, padL, padR;
  explicit ConvShape(const std::vector<int64_t> &p) {
    src = {p[0], p[3], p[1], p[2]};
    wei = {p[6], p[3], p[4], p[5]};
    dst = {p[0], p[6], p[7], p[8]};
    bias = {p[6]};
    strides = {p[9], p[10]};
    dilates = {p[11] - 1, p[12] - 1};  // oneDNN counts dilation from 0
    padL = {p[13], p[14]};
    padR = {p[15], p[16]};
  }
  memory::desc srcMd() const { return memory::desc(src, dt::f32, tag::nhwc); }
  memory::desc dstMd() const { return memory::desc(dst, dt::f32, tag::nhwc); }
  // What the primitive is built with: NHWC as tfjs stores it, or (blocked activations) whatever
  // layout oneDNN prefers, reordered to and from NHWC around the primitive.
  memory::desc srcPd(bool blocked) const { return blocked ? memory::desc(src, dt::f32, tag::any) : srcMd(); }
  memory::desc dstPd(bool blocked) const { return blocked ? memory::desc(dst, dt::f32, tag::any) : dstMd(); }
  memory::desc userWeiMd() const { return memory::desc(wei, dt::f32, tag::hwio); }
  memory::desc anyWeiMd() const { return memory::desc(wei, dt::f32, tag::any); }
  memory::desc biasMd() const { return memory::desc(bias, dt::f32, tag::x); }

  convolution_forward::desc fwdDesc(bool withBias, bool blocked) const {
    if (withBias)
      return convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, srcPd(blocked), anyWeiMd(),
                                       biasMd(), dstPd(blocked), strides, dilates, padL, padR);
    return convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, srcPd(blocked), anyWeiMd(),
                                     dstPd(blocked), strides, dilates, padL, padR);
  }
};

// Blocked activations (setBlockedActivations): convolutions take their activations in oneDNN's
// preferred layout (nChw8c on AVX2, nChw16c on AVX-512), reordered from and to tfjs' NHWC around
// each primitive. Off by default (inference); training turns it on (prepareForTraining in
// src/engine/backend.ts), and the training bench measures both.
std::atomic<bool> blockedActivations{false};
// A first layer (1 or 3 input channels) stays NHWC even then: blocking pads its channels to 8, and
// its weights gradient ran 2-10x slower so (6 against 38 GFLOP/s for one channel at 48x48).
constexpr int64_t BLOCKED_MIN_CHANNELS = 8;
bool blockedFor(const std::vector<int64_t> &p) { return blockedActivations.load() && p[3] >= BLOCKED_MIN_CHANNELS; }

struct ConvFwd {
  convolution_forward::primitive_desc pd;
  convolution_forward prim;
  Staged weights, src, dst;
};

// The two backward passes of a convolution: the same shape of primitive, other types. `a` and `b`
// are its activation operands: diff_dst and diff_src (data), src and diff_dst (weights).
template <class Bwd> struct ConvBwd {
  typename Bwd::primitive_desc pd;
  Bwd prim;
  Staged weights, a, b;
};
using ConvBwdData = ConvBwd<convolution_backward_data>;
using ConvBwdWeights = ConvBwd<convolution_backward_weights>;

thread_local std::unordered_map<std::string, std::unique_ptr<ConvFwd>> convFwdCache;
thread_local std::unordered_map<std::string, std::unique_ptr<ConvBwdData>> convBwdDataCache;
thread_local std::unordered_map<std::string, std::unique_ptr<ConvBwdWeights>> convBwdWeightsCache;

ConvFwd &convFwd(const std::vector<int64_t> &p, bool withBias, bool relu) {
  const bool blocked = blockedFor(p);
  const std::string key = keyOf("cf", p, {withBias, relu, blocked});
  auto it = convFwdCache.find(key);
  if (it != convFwdCache.end()) return *it->second;
  ConvShape s(p);
  primitive_attr attr;
  if (relu) {
    post_ops ops;
    ops.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(ops);
  }
  auto e = std::make_unique<ConvFwd>();
  e->pd = convolution_forward::primitive_desc(s.fwdDesc(withBias, blocked), attr, cpuEngine());
  e->prim = convolution_forward(e->pd);
  e->weights.init(s.userWeiMd(), e->pd.weights_desc(), true, false);
  e->src.init(s.srcMd(), e->pd.src_desc(), true, false);
  e->dst.init(s.dstMd(), e->pd.dst_desc(), false, true);
  if (debug()) std::fprintf(stderr, "visemo native conv fwd %s: %s\n", key.c_str(), e->pd.impl_info_str());
  return *convFwdCache.emplace(key, std::move(e)).first->second;
}

// conv2d(x, w, bias|null, y, params, relu)
napi_value Conv2d(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 6);
  Floats x, w, b, y;
  std::vector<int64_t> p;
  if (a.size() < 6 || !getFloats(env, a[0], x) || !getFloats(env, a[1], w) || !getFloats(env, a[2], b, true) ||
      !getFloats(env, a[3], y) || !getInts(env, a[4], p, CONV_PARAMS))
    return typeError(env, "conv2d(x, w, bias|null, y, Int32Array(17), relu)");
  const bool relu = getBool(env, a[5]);
  return guarded(env, "conv2d", [&] {
    ConvFwd &c = convFwd(p, b.data != nullptr, relu);
    ConvShape s(p);
    std::unordered_map<int, memory> m{{DNNL_ARG_SRC, c.src.input(x.data)},
                                      {DNNL_ARG_WEIGHTS, c.weights.input(w.data)},
                                      {DNNL_ARG_DST, c.dst.outputFor(y.data)}};
    if (b.data) m.emplace(DNNL_ARG_BIAS, memory(s.biasMd(), cpuEngine(), b.data));
    c.prim.execute(cpuStream(), m);
    c.dst.finishOutput(y.data);
    cpuStream().wait();
  });
}

// A backward primitive per shape, built once, hinted by the forward one. The data pass reads the
// weights (staged in), the weights pass writes their gradient (staged out).
template <class Bwd>
ConvBwd<Bwd> &convBwd(std::unordered_map<std::string, std::unique_ptr<ConvBwd<Bwd>>> &cache, const char *tag, const std::vector<int64_t> &p) {
  constexpr bool data = std::is_same_v<Bwd, convolution_backward_data>;
  const bool blocked = blockedFor(p);
  const std::string key = keyOf(tag, p, {blocked});
  auto it = cache.find(key);
  if (it != cache.end()) return *it->second;
  ConvShape s(p);
  auto hint = convolution_forward::primitive_desc(s.fwdDesc(false, blocked), cpuEngine());
  auto e = std::make_unique<ConvBwd<Bwd>>();
  typename Bwd::desc d(algorithm::convolution_direct, s.srcPd(blocked), s.anyWeiMd(), s.dstPd(blocked), s.strides, s.dilates, s.padL, s.padR);
  e->pd = typename Bwd::primitive_desc(d, cpuEngine(), hint);
  e->prim = Bwd(e->pd);
  if constexpr (data) {
    e->weights.init(s.userWeiMd(), e->pd.weights_desc(), true, false);
    e->a.init(s.dstMd(), e->pd.diff_dst_desc(), true, false);
    e->b.init(s.srcMd(), e->pd.diff_src_desc(), false, true);
  } else {
    e->weights.init(s.userWeiMd(), e->pd.diff_weights_desc(), false, true);
    e->a.init(s.srcMd(), e->pd.src_desc(), true, false);
    e->b.init(s.dstMd(), e->pd.diff_dst_desc(), true, false);
  }
  if (debug()) std::fprintf(stderr, "visemo native conv bwd %s %s: %s\n", data ? "data" : "weights", key.c_str(), e->pd.impl_info_str());
  return *cache.emplace(key, std::move(e)).first->second;
}

// Both backward passes: three float arrays and the convolution's parameters in, the shape's
// primitive looked up (or built), then `run` executes it.
template <class Bwd, class Run>
napi_value convBwdCall(napi_env env, napi_callback_info info, const char *name, const char *signature,
                       std::unordered_map<std::string, std::unique_ptr<ConvBwd<Bwd>>> &cache, const char *tag, Run run) {
  auto a = args(env, info, 4);
  Floats f0, f1, f2;
  std::vector<int64_t> p;
  if (a.size() < 4 || !getFloats(env, a[0], f0) || !getFloats(env, a[1], f1) || !getFloats(env, a[2], f2) || !getInts(env, a[3], p, CONV_PARAMS))
    return typeError(env, signature);
  return guarded(env, name, [&] {
    run(convBwd(cache, tag, p), ConvShape(p), f0, f1, f2);
    cpuStream().wait();
  });
}

// conv2dBackwardData(dy, w, dx, params)
napi_value Conv2dBackwardData(napi_env env, napi_callback_info info) {
  return convBwdCall(env, info, "conv2dBackwardData", "conv2dBackwardData(dy, w, dx, Int32Array(17))", convBwdDataCache, "cd",
                     [](ConvBwdData &c, const ConvShape &, Floats &dy, Floats &w, Floats &dx) {
                       c.prim.execute(cpuStream(), {{DNNL_ARG_DIFF_DST, c.a.input(dy.data)},
                                                    {DNNL_ARG_WEIGHTS, c.weights.input(w.data)},
                                                    {DNNL_ARG_DIFF_SRC, c.b.outputFor(dx.data)}});
                       c.b.finishOutput(dx.data);
                     });
}

// conv2dBackwardFilter(x, dy, dw, params). The bias gradient is a Sum kernel of its own in tfjs.
napi_value Conv2dBackwardFilter(napi_env env, napi_callback_info info) {
  return convBwdCall(env, info, "conv2dBackwardFilter", "conv2dBackwardFilter(x, dy, dw, Int32Array(17))", convBwdWeightsCache, "cw",
                     [](ConvBwdWeights &c, const ConvShape &, Floats &x, Floats &dy, Floats &dw) {
                       c.prim.execute(cpuStream(), {{DNNL_ARG_SRC, c.a.input(x.data)},
                                                    {DNNL_ARG_DIFF_DST, c.b.input(dy.data)},
                                                    {DNNL_ARG_DIFF_WEIGHTS, c.weights.outputFor(dw.data)}});
                       c.weights.finishOutput(dw.data);
                     });
}

// Depthwise 2-D convolution for inference (face-api.js's SSD MobileNet spends most of its time
// here): oneDNN's grouped convolution with one group per input channel. tfjs' filter
// [KH, KW, C, multiplier] is oneDNN's grouped weights {G=C, O=multiplier, I=1, KH, KW} in the
// order h,w,i,g,o (hwigo). params as conv2d's, with OC = C * multiplier.
struct DepthwiseFwd {
  convolution_forward::primitive_desc pd;
  convolution_forward prim;
  Staged weights;
};
thread_local std::unordered_map<std::string, std::unique_ptr<DepthwiseFwd>> depthwiseCache;

memory::dims depthwiseWeights(const std::vector<int64_t> &p) { return {p[3], p[6] / p[3], 1, p[4], p[5]}; }

DepthwiseFwd &depthwiseFwd(const std::vector<int64_t> &p) {
  const std::string key = keyOf("dw", p, {});
  auto it = depthwiseCache.find(key);
  if (it != depthwiseCache.end()) return *it->second;
  ConvShape s(p);
  const memory::dims wei = depthwiseWeights(p);
  auto e = std::make_unique<DepthwiseFwd>();
  convolution_forward::desc d(prop_kind::forward_inference, algorithm::convolution_direct, s.srcMd(), memory::desc(wei, dt::f32, tag::any),
                              s.dstMd(), s.strides, s.dilates, s.padL, s.padR);
  e->pd = convolution_forward::primitive_desc(d, cpuEngine());
  e->prim = convolution_forward(e->pd);
  e->weights.init(memory::desc(wei, dt::f32, tag::hwigo), e->pd.weights_desc(), true, false);
  if (debug()) std::fprintf(stderr, "visemo native depthwise fwd %s: %s\n", key.c_str(), e->pd.impl_info_str());
  return *depthwiseCache.emplace(key, std::move(e)).first->second;
}

// depthwiseConv2d(x, w, y, params)
napi_value DepthwiseConv2d(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 4);
  Floats x, w, y;
  std::vector<int64_t> p;
  if (a.size() < 4 || !getFloats(env, a[0], x) || !getFloats(env, a[1], w) || !getFloats(env, a[2], y) || !getInts(env, a[3], p, CONV_PARAMS))
    return typeError(env, "depthwiseConv2d(x, w, y, Int32Array(17))");
  if (p[3] < 1 || p[6] % p[3] != 0) return boolean(env, false);
  return guarded(env, "depthwiseConv2d", [&] {
    DepthwiseFwd &c = depthwiseFwd(p);
    ConvShape s(p);
    c.prim.execute(cpuStream(), {{DNNL_ARG_SRC, memory(s.srcMd(), cpuEngine(), x.data)},
                                 {DNNL_ARG_WEIGHTS, c.weights.input(w.data)},
                                 {DNNL_ARG_DST, memory(s.dstMd(), cpuEngine(), y.data)}});
    cpuStream().wait();
  });
}

// ---------------------------------------------------------------------------------------------
// Batched matrix product, tfjs BatchMatMul semantics: a [Ba,M,K] (or [Ba,K,M] transposed),
// b [Bb,K,N] (or [Bb,N,K]), out [max(Ba,Bb),M,N]; a batch of 1 broadcasts.
// params: Ba, Bb, M, N, K, transposeA, transposeB

struct MatMulPrim {
  matmul::primitive_desc pd;
  matmul prim;
  memory::desc a, b, c, bias;
};
thread_local std::unordered_map<std::string, std::unique_ptr<MatMulPrim>> matmulCache;

// matmul(a, b, out, params, bias|null, relu)
napi_value MatMul(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 6);
  Floats A, B, C, bias;
  std::vector<int64_t> p;
  if (a.size() < 6 || !getFloats(env, a[0], A) || !getFloats(env, a[1], B) || !getFloats(env, a[2], C) ||
      !getInts(env, a[3], p, 7) || !getFloats(env, a[4], bias, true))
    return typeError(env, "matmul(a, b, out, Int32Array(7), bias|null, relu)");
  const bool relu = getBool(env, a[5]);
  return guarded(env, "matmul", [&] {
    const std::string key = keyOf("mm", p, {bias.data != nullptr, relu});
    auto it = matmulCache.find(key);
    if (it == matmulCache.end()) {
      const int64_t Ba = p[0], Bb = p[1], M = p[2], N = p[3], K = p[4];
      const bool tA = p[5] != 0, tB = p[6] != 0;
      auto e = std::make_unique<MatMulPrim>();
      e->a = memory::desc({Ba, M, K}, dt::f32, tA ? memory::dims{M * K, 1, M} : memory::dims{M * K, K, 1});
      e->b = memory::desc({Bb, K, N}, dt::f32, tB ? memory::dims{K * N, 1, K} : memory::dims{K * N, N, 1});
      e->c = memory::desc({std::max(Ba, Bb), M, N}, dt::f32, memory::dims{M * N, N, 1});
      e->bias = memory::desc({1, 1, N}, dt::f32, memory::dims{N, N, 1});
      primitive_attr attr;
      if (relu) {
        post_ops ops;
        ops.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f);
        attr.set_post_ops(ops);
      }
      auto d = bias.data ? matmul::desc(e->a, e->b, e->bias, e->c) : matmul::desc(e->a, e->b, e->c);
      e->pd = matmul::primitive_desc(d, attr, cpuEngine());
      e->prim = matmul(e->pd);
      if (debug()) std::fprintf(stderr, "visemo native matmul %s: %s\n", key.c_str(), e->pd.impl_info_str());
      it = matmulCache.emplace(key, std::move(e)).first;
    }
    MatMulPrim &m = *it->second;
    std::unordered_map<int, memory> mem{{DNNL_ARG_SRC, memory(m.a, cpuEngine(), A.data)},
                                        {DNNL_ARG_WEIGHTS, memory(m.b, cpuEngine(), B.data)},
                                        {DNNL_ARG_DST, memory(m.c, cpuEngine(), C.data)}};
    if (bias.data) mem.emplace(DNNL_ARG_BIAS, memory(m.bias, cpuEngine(), bias.data));
    m.prim.execute(cpuStream(), mem);
    cpuStream().wait();
  });
}

// ---------------------------------------------------------------------------------------------
// 2-D max pooling, NHWC.
// params: N,H,W,C, OH,OW, KH,KW, strideH,strideW, padTop,padLeft,padBottom,padRight

struct PoolShape {
  memory::dims src, dst, kernel, strides, padL, padR;
  explicit PoolShape(const std::vector<int64_t> &p) {
    src = {p[0], p[3], p[1], p[2]};
    dst = {p[0], p[3], p[4], p[5]};
    kernel = {p[6], p[7]};
    strides = {p[8], p[9]};
    padL = {p[10], p[11]};
    padR = {p[12], p[13]};
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

// The arguments of a call f(x, y, Int32Array(count)): two float arrays and `count` parameters.
bool xyParams(napi_env env, napi_callback_info info, size_t count, Floats &x, Floats &y, std::vector<int64_t> &p) {
  auto a = args(env, info, 3);
  return a.size() == 3 && getFloats(env, a[0], x) && getFloats(env, a[1], y) && getInts(env, a[2], p, count);
}

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

bool isPool2x2(const std::vector<int64_t> &p) {
  // N,H,W,C, OH,OW, KH,KW, SH,SW, padTop,padLeft,...
  return p[6] == 2 && p[7] == 2 && p[8] == 2 && p[9] == 2 && p[10] == 0 && p[11] == 0 && p[4] == p[1] / 2 && p[5] == p[2] / 2;
}

// maxPool(x, y, params)
napi_value MaxPool(napi_env env, napi_callback_info info) {
  Floats x, y;
  std::vector<int64_t> p;
  if (!xyParams(env, info, 14, x, y, p)) return typeError(env, "maxPool(x, y, Int32Array(14))");
  if (isPool2x2(p) && x.length == static_cast<size_t>(p[0] * p[1] * p[2] * p[3]) && y.length == static_cast<size_t>(p[0] * p[4] * p[5] * p[3])) {
    maxPool2x2(x.data, y.data, p[0], p[1], p[2], p[3]);
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

// maxPoolGrad(dy, x, dx, params): each output's gradient goes to the first maximum of its window,
// as tfjs' reference kernel does (oneDNN would need the forward's workspace, which tfjs does not
// keep between kernels, and may break ties differently). One pass over x, one over dx.
napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 4);
  Floats dy, x, dx;
  std::vector<int64_t> p;
  if (a.size() < 4 || !getFloats(env, a[0], dy) || !getFloats(env, a[1], x) || !getFloats(env, a[2], dx) ||
      !getInts(env, a[3], p, 14))
    return typeError(env, "maxPoolGrad(dy, x, dx, Int32Array(14))");
  const int64_t N = p[0], H = p[1], W = p[2], C = p[3], OH = p[4], OW = p[5], KH = p[6], KW = p[7], SH = p[8],
                SW = p[9], PT = p[10], PL = p[11];
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

// ---------------------------------------------------------------------------------------------
// Element-wise kernels (the CPU backend's are plain JavaScript loops, which dominate a training
// step once the convolutions are native).

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

// Calls run(op) with the element-wise operation of code `op`; false for an unknown code.
// op: 0 add, 1 sub, 2 mul, 3 div, 4 max, 5 min (max and min propagate NaN, as in tfjs).
template <typename Run>
bool withBinaryOp(int32_t op, Run run) {
  switch (op) {
    case 0: run([](float u, float v) { return u + v; }); return true;
    case 1: run([](float u, float v) { return u - v; }); return true;
    case 2: run([](float u, float v) { return u * v; }); return true;
    case 3: run([](float u, float v) { return u / v; }); return true;
    case 4: run([](float u, float v) { return u != u || v != v ? NAN : (u > v ? u : v); }); return true;
    case 5: run([](float u, float v) { return u != u || v != v ? NAN : (u < v ? u : v); }); return true;
    default: return false;
  }
}

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

// unary(op, x, out, alpha[, beta]); op: 0 relu, 1 step(alpha), 2 floor, 3 sqrt, 4 square, 5 neg, 6 exp, 7 log, 8 abs,
// 9 clip(alpha, beta)
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
  switch (op) {
    // NaN passes through relu and step as it does in tfjs.
    case 0: unaryLoop(x.data, out.data, n, [](float v) { return v < 0.f ? 0.f : v; }); break;
    case 1: paramLoop(x.data, out.data, n, al, be, [](float v, float a, float) { return v != v ? v : (v > 0.f ? 1.f : a); }); break;
    case 2: unaryLoop(x.data, out.data, n, [](float v) { return std::floor(v); }); break;
    case 3: unaryLoop(x.data, out.data, n, [](float v) { return std::sqrt(v); }); break;
    case 4: unaryLoop(x.data, out.data, n, [](float v) { return v * v; }); break;
    case 5: unaryLoop(x.data, out.data, n, [](float v) { return -v; }); break;
    case 6: unaryLoop(x.data, out.data, n, [](float v) { return std::exp(v); }); break;
    case 7: unaryLoop(x.data, out.data, n, [](float v) { return std::log(v); }); break;
    case 8: unaryLoop(x.data, out.data, n, [](float v) { return std::fabs(v); }); break;
    // clip to [alpha, beta] (relu6 in MobileNets); NaN passes through, as in tfjs.
    case 9: paramLoop(x.data, out.data, n, al, be, [](float v, float a, float b) { return v > b ? b : (v < a ? a : v); }); break;
    default: return boolean(env, false);
  }
  return boolean(env, true);
}

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
// its JavaScript does) so results agree to float rounding. params: N,H,W,C, OH,OW, alignCorners,
// halfPixelCenters.
napi_value ResizeBilinear(napi_env env, napi_callback_info info) {
  Floats x, y;
  std::vector<int64_t> p;
  if (!xyParams(env, info, 8, x, y, p)) return typeError(env, "resizeBilinear(x, y, Int32Array(8))");
  const int64_t N = p[0], H = p[1], W = p[2], C = p[3], OH = p[4], OW = p[5];
  const bool align = p[6] != 0, half = p[7] != 0;
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

// ---------------------------------------------------------------------------------------------
// Batch normalisation over the channels of NHWC data (the last axis): one pass for the batch
// statistics and one to normalise while training, two passes for the whole gradient. tfjs
// computes the same from moments + batchNorm and their gradients: about fifteen passes.

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

bool channelsFit(const Floats &x, int64_t C, std::initializer_list<const Floats *> perChannel) {
  if (C < 1 || x.length % static_cast<size_t>(C) != 0) return false;
  for (const Floats *f : perChannel)
    if (f->data && f->length != static_cast<size_t>(C)) return false;
  return true;
}

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

// ---------------------------------------------------------------------------------------------

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
  const size_t primitives = convFwdCache.size() + convBwdDataCache.size() + convBwdWeightsCache.size() + depthwiseCache.size() + matmulCache.size() + poolFwdCache.size();
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

// setBlockedActivations(on): convolutions in oneDNN's preferred activation layouts (see above).
napi_value SetBlockedActivations(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 1);
  if (a.empty()) return typeError(env, "setBlockedActivations(on)");
  blockedActivations.store(getBool(env, a[0]));
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
  };
  napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
