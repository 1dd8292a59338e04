// The oneDNN side every primitive-building file shares: the CPU engine and this thread's stream,
// the guard that turns a oneDNN error into `false`, and Staged, a buffer reordered between the
// user's layout and the one a primitive prefers.
#pragma once

#include <dnnl.hpp>

#include "common.h"

namespace visemo {

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

inline engine &cpuEngine() {
  static engine e(engine::kind::cpu, 0);
  return e;
}

inline stream &cpuStream() {
  // One stream per thread: each worker_threads thread of the server runs its own primitives.
  thread_local stream s(cpuEngine());
  return s;
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


}  // namespace visemo
