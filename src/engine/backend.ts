/**
 * The one place that chooses the compute backend. A new backend (WebGPU, say) is a module that
 * exports a `Backend` (backend-interface.ts) and one entry in BACKENDS, and nothing more.
 */
import type { Backend } from './backend-interface.js';
import { tf } from './tf.js';
import { firstLine, VisemoError } from '../util/errors.js';

export type BackendName = 'native' | 'wasm' | 'cpu';
export type BackendChoice = BackendName | 'auto';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'native', 'wasm', 'cpu'];

/** What runs an emotion model at inference: tfjs (on the active backend) or onnxruntime-node (engine/onnx.ts). */
export type ModelRuntime = 'tfjs' | 'onnx';
/** predict's and compare's --backend: a tfjs backend, or 'onnx' for the emotion model on onnxruntime-node. */
export type InferenceBackendChoice = BackendChoice | 'onnx';
export const INFERENCE_BACKEND_CHOICES: readonly InferenceBackendChoice[] = [...BACKEND_CHOICES, 'onnx'];
/** What ran an emotion model, as every output names it: a tfjs backend, or 'onnx'. */
export type InferenceBackendName = BackendName | 'onnx';

/**
 * How an inference --backend splits: the emotion model's runtime, and the tfjs backend for what
 * only tfjs runs (the face detector, face-api.js's expression net). With 'onnx' that is wasm, which
 * needs no compiled addon (as onnxruntime-node needs none).
 */
export function inferenceBackends(choice: InferenceBackendChoice): { tfjs: BackendChoice; runtime: ModelRuntime } {
  return choice === 'onnx' ? { tfjs: 'wasm', runtime: 'onnx' } : { tfjs: choice, runtime: 'tfjs' };
}

/** Each backend's module is loaded only when it is tried: the native one loads a compiled addon. */
const BACKENDS: Record<BackendName, () => Promise<Backend>> = {
  native: async () => (await import('./native/register.js')).nativeBackend,
  wasm: async () => (await import('./wasm/conv-grads.js')).wasmBackend,
  // tfjs' own CPU backend needs nothing registered.
  cpu: async () => ({ prepare: async () => null }),
};

/** Fastest first: 'auto' takes the first that is available. */
const BACKEND_PREFERENCE: BackendName[] = ['native', 'wasm', 'cpu'];

let active: BackendName | null = null;
const warned = new Set<BackendName>();

/** Why `name` cannot be used, or null once it is registered with tfjs. */
async function prepare(name: BackendName): Promise<string | null> {
  try {
    return await (await BACKENDS[name]()).prepare();
  } catch (err) {
    return `${name} backend not available (${firstLine(err)})`;
  }
}

/**
 * Activates a backend. 'auto' tries native, then wasm, then cpu, with one line on stderr for each
 * one skipped (unless `quiet`). A named backend runs or fails: a VisemoError with the reason,
 * never a silent fallback to another.
 */
export async function useBackend(choice: BackendChoice = 'auto', opts: { quiet?: boolean } = {}): Promise<BackendName> {
  const order = choice === 'auto' ? BACKEND_PREFERENCE : [choice];
  for (const name of order) {
    if (active === name && tf.getBackend() === name) return name;
    const why = await prepare(name);
    if (why === null && (await tf.setBackend(name))) {
      await tf.ready();
      active = name;
      return name;
    }
    if (choice !== 'auto') {
      throw new VisemoError(
        `the ${name} backend cannot run: ${why ?? `tfjs could not start it`}`,
        `run \`npx visemo doctor\` for what it needs, or choose --backend auto`,
      );
    }
    // One line, once per process, whenever a backend asked for (or preferred by 'auto') is skipped.
    if (!opts.quiet && !warned.has(name)) {
      warned.add(name);
      process.stderr.write(`visemo: ${why ?? `backend ${name} failed to start`}; using the next available backend\n`);
    }
  }
  throw new Error('no tfjs backend could be started');
}

/**
 * Whether each backend can run here: null where it can, else why not. Registers those that can
 * with tfjs but activates none (for `visemo doctor`).
 */
export async function backendAvailability(): Promise<Record<BackendName, string | null>> {
  const out = {} as Record<BackendName, string | null>;
  for (const name of BACKEND_PREFERENCE) out[name] = await prepare(name);
  return out;
}

export function activeBackend(): BackendName | null {
  return active;
}

/**
 * Training repeats one set of tensor sizes every step: the native backend then keeps a whole
 * step's freed buffers for the next one (native/buffer-pool.ts), and runs its convolutions on
 * oneDNN's blocked activation layouts, faster at every training size the bench times
 * (VISEMO_LAYOUT=nhwc keeps tfjs' own). Other backends change nothing.
 */
export async function prepareForTraining(): Promise<void> {
  if (active !== 'native') return;
  const pool = await import('./native/buffer-pool.js');
  // Emptied first: buffers of an earlier run in this process (the experiment's other sizes) would never be reused.
  pool.setPoolLimit(0);
  pool.setPoolLimit(pool.TRAINING_POOL_MAX_BYTES);
  const addon = (await import('./native/addon.js')).loadAddon();
  if (typeof addon !== 'string' && process.env.VISEMO_LAYOUT !== 'nhwc') addon.setBlockedActivations(true);
}
