// Convolutions and their two gradients, depthwise convolution and batched matrix products, each
// one oneDNN primitive built once per shape and cached (a fused op's bias and relu inside it).
// The oneDNN kernels of src/engine/native/kernels-conv.ts.
#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "common.h"
#include "engine.h"
#include "kernels.h"

namespace visemo {

namespace {

// 2-D convolution, NHWC activations and HWIO filters as tfjs stores them (ConvParams).
struct ConvShape {
  memory::dims src, wei, dst, bias, strides, dilates, padL, padR;
  explicit ConvShape(const ConvParams &p) {
    src = {p.batch, p.inChannels, p.inHeight, p.inWidth};
    wei = {p.outChannels, p.inChannels, p.filterHeight, p.filterWidth};
    dst = {p.batch, p.outChannels, p.outHeight, p.outWidth};
    bias = {p.outChannels};
    strides = {p.strideHeight, p.strideWidth};
    dilates = {p.dilationHeight - 1, p.dilationWidth - 1};  // oneDNN counts dilation from 0
    padL = {p.padTop, p.padLeft};
    padR = {p.padBottom, p.padRight};
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
bool blockedFor(const ConvParams &p) { return blockedActivations.load() && p.inChannels >= BLOCKED_MIN_CHANNELS; }

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

ConvFwd &convFwd(const ConvParams &p, bool withBias, bool relu) {
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

}  // namespace

// conv2d(x, w, bias|null, y, params, relu)
napi_value Conv2d(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 6);
  Floats x, w, b, y;
  ConvParams p;
  if (a.size() < 6 || !getFloats(env, a[0], x) || !getFloats(env, a[1], w) || !getFloats(env, a[2], b, true) ||
      !getFloats(env, a[3], y) || !getParams(env, a[4], p))
    return typeError(env, "conv2d(x, w, bias|null, y, ConvParams, relu)");
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

namespace {

// A backward primitive per shape, built once, hinted by the forward one. The data pass reads the
// weights (staged in), the weights pass writes their gradient (staged out).
template <class Bwd>
ConvBwd<Bwd> &convBwd(std::unordered_map<std::string, std::unique_ptr<ConvBwd<Bwd>>> &cache, const char *tag, const ConvParams &p) {
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
  ConvParams p;
  if (a.size() < 4 || !getFloats(env, a[0], f0) || !getFloats(env, a[1], f1) || !getFloats(env, a[2], f2) || !getParams(env, a[3], p))
    return typeError(env, signature);
  return guarded(env, name, [&] {
    run(convBwd(cache, tag, p), ConvShape(p), f0, f1, f2);
    cpuStream().wait();
  });
}

}  // namespace

// conv2dBackwardData(dy, w, dx, params)
napi_value Conv2dBackwardData(napi_env env, napi_callback_info info) {
  return convBwdCall(env, info, "conv2dBackwardData", "conv2dBackwardData(dy, w, dx, ConvParams)", convBwdDataCache, "cd",
                     [](ConvBwdData &c, const ConvShape &, Floats &dy, Floats &w, Floats &dx) {
                       c.prim.execute(cpuStream(), {{DNNL_ARG_DIFF_DST, c.a.input(dy.data)},
                                                    {DNNL_ARG_WEIGHTS, c.weights.input(w.data)},
                                                    {DNNL_ARG_DIFF_SRC, c.b.outputFor(dx.data)}});
                       c.b.finishOutput(dx.data);
                     });
}

// conv2dBackwardFilter(x, dy, dw, params). The bias gradient is a Sum kernel of its own in tfjs.
napi_value Conv2dBackwardFilter(napi_env env, napi_callback_info info) {
  return convBwdCall(env, info, "conv2dBackwardFilter", "conv2dBackwardFilter(x, dy, dw, ConvParams)", convBwdWeightsCache, "cw",
                     [](ConvBwdWeights &c, const ConvShape &, Floats &x, Floats &dy, Floats &dw) {
                       c.prim.execute(cpuStream(), {{DNNL_ARG_SRC, c.a.input(x.data)},
                                                    {DNNL_ARG_DIFF_DST, c.b.input(dy.data)},
                                                    {DNNL_ARG_DIFF_WEIGHTS, c.weights.outputFor(dw.data)}});
                       c.weights.finishOutput(dw.data);
                     });
}

namespace {

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

memory::dims depthwiseWeights(const ConvParams &p) { return {p.inChannels, p.outChannels / p.inChannels, 1, p.filterHeight, p.filterWidth}; }

DepthwiseFwd &depthwiseFwd(const ConvParams &p) {
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

}  // namespace

// depthwiseConv2d(x, w, y, params)
napi_value DepthwiseConv2d(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 4);
  Floats x, w, y;
  ConvParams p;
  if (a.size() < 4 || !getFloats(env, a[0], x) || !getFloats(env, a[1], w) || !getFloats(env, a[2], y) || !getParams(env, a[3], p))
    return typeError(env, "depthwiseConv2d(x, w, y, ConvParams)");
  if (p.inChannels < 1 || p.outChannels % p.inChannels != 0) return boolean(env, false);
  return guarded(env, "depthwiseConv2d", [&] {
    DepthwiseFwd &c = depthwiseFwd(p);
    ConvShape s(p);
    c.prim.execute(cpuStream(), {{DNNL_ARG_SRC, memory(s.srcMd(), cpuEngine(), x.data)},
                                 {DNNL_ARG_WEIGHTS, c.weights.input(w.data)},
                                 {DNNL_ARG_DST, memory(s.dstMd(), cpuEngine(), y.data)}});
    cpuStream().wait();
  });
}

namespace {

// ---------------------------------------------------------------------------------------------
// Batched matrix product, tfjs BatchMatMul semantics: a [Ba,M,K] (or [Ba,K,M] transposed),
// b [Bb,K,N] (or [Bb,N,K]), out [max(Ba,Bb),M,N]; a batch of 1 broadcasts.
// params: MatMulParams

struct MatMulPrim {
  matmul::primitive_desc pd;
  matmul prim;
  memory::desc a, b, c, bias;
};
thread_local std::unordered_map<std::string, std::unique_ptr<MatMulPrim>> matmulCache;

}  // namespace

// matmul(a, b, out, params, bias|null, relu)
napi_value MatMul(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 6);
  Floats A, B, C, bias;
  MatMulParams p;
  if (a.size() < 6 || !getFloats(env, a[0], A) || !getFloats(env, a[1], B) || !getFloats(env, a[2], C) ||
      !getParams(env, a[3], p) || !getFloats(env, a[4], bias, true))
    return typeError(env, "matmul(a, b, out, MatMulParams, bias|null, relu)");
  const bool relu = getBool(env, a[5]);
  return guarded(env, "matmul", [&] {
    const std::string key = keyOf("mm", p, {bias.data != nullptr, relu});
    auto it = matmulCache.find(key);
    if (it == matmulCache.end()) {
      const int64_t Ba = p.batchA, Bb = p.batchB, M = p.m, N = p.n, K = p.k;
      const bool tA = p.transposeA != 0, tB = p.transposeB != 0;
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

// setBlockedActivations(on): convolutions in oneDNN's preferred activation layouts (see above).
napi_value SetBlockedActivations(napi_env env, napi_callback_info info) {
  auto a = args(env, info, 1);
  if (a.empty()) return typeError(env, "setBlockedActivations(on)");
  blockedActivations.store(getBool(env, a[0]));
  return boolean(env, true);
}

size_t convPrimitiveCount() {
  return convFwdCache.size() + convBwdDataCache.size() + convBwdWeightsCache.size() + depthwiseCache.size() + matmulCache.size();
}

}  // namespace visemo
