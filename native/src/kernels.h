// The addon's exported functions, one file of kernels each (conv.cc, pool.cc, resize-pad.cc,
// elementwise.cc, reduce.cc, batchnorm.cc, training.cc), for module.cc to register. Their
// JavaScript signatures are in src/engine/native/addon.ts.
#pragma once

#include <node_api.h>

#include <cstddef>

namespace visemo {

// conv.cc: convolutions, their gradients, depthwise convolution, matrix products.
napi_value Conv2d(napi_env env, napi_callback_info info);
napi_value Conv2dBackwardData(napi_env env, napi_callback_info info);
napi_value Conv2dBackwardFilter(napi_env env, napi_callback_info info);
napi_value DepthwiseConv2d(napi_env env, napi_callback_info info);
napi_value MatMul(napi_env env, napi_callback_info info);
napi_value SetBlockedActivations(napi_env env, napi_callback_info info);
// pool.cc
napi_value MaxPool(napi_env env, napi_callback_info info);
napi_value MaxPoolGrad(napi_env env, napi_callback_info info);
// resize-pad.cc
napi_value ResizeBilinear(napi_env env, napi_callback_info info);
napi_value PadConstant(napi_env env, napi_callback_info info);
// elementwise.cc
napi_value Binary(napi_env env, napi_callback_info info);
napi_value BinaryBroadcast(napi_env env, napi_callback_info info);
napi_value Unary(napi_env env, napi_callback_info info);
// reduce.cc
napi_value Sum(napi_env env, napi_callback_info info);
// batchnorm.cc
napi_value BatchNormTrain(napi_env env, napi_callback_info info);
napi_value BatchNormApply(napi_env env, napi_callback_info info);
napi_value BatchNormGrad(napi_env env, napi_callback_info info);
// training.cc
napi_value ReluGrad(napi_env env, napi_callback_info info);
napi_value ReluGradBias(napi_env env, napi_callback_info info);
napi_value Adam(napi_env env, napi_callback_info info);
napi_value Dropout(napi_env env, napi_callback_info info);

// How many oneDNN primitives this thread has built and cached (conv.cc's and pool.cc's), for info().
size_t convPrimitiveCount();
size_t poolPrimitiveCount();

}  // namespace visemo
