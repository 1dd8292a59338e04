/**
 * The one place that chooses the compute backend. Everything else imports `tf` from here,
 * so a new backend (native oneDNN, WebGPU) is a new entry in BACKENDS and nothing more.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmConvGradients } from './wasm-conv-grads.js';

export { tf };

// Production mode skips tfjs's debug checks (NaN scans, shape asserts on every op) and its
// console advice to install tfjs-node, which cannot be installed here.
tf.enableProdMode();

export type BackendName = 'native' | 'wasm' | 'cpu';
export type BackendChoice = BackendName | 'auto';

interface BackendEntry {
  /** Registers the backend with tfjs; returns why it is unavailable, or null when ready. */
  prepare(): Promise<string | null>;
}

const BACKENDS: Record<BackendName, BackendEntry> = {
  native: {
    async prepare() {
      try {
        const mod = (await import('./native-backend.js')) as { registerNativeBackend(): Promise<string | null> };
        return await mod.registerNativeBackend();
      } catch (err) {
        return `native backend not available (${(err as Error).message.split('\n')[0]})`;
      }
    },
  },
  wasm: {
    async prepare() {
      registerWasmConvGradients();
      return null;
    },
  },
  cpu: { prepare: async () => null },
};

/** Fastest first: 'auto' takes the first that is available. */
export const BACKEND_PREFERENCE: BackendName[] = ['native', 'wasm', 'cpu'];

let active: BackendName | null = null;
const warned = new Set<BackendName>();

/**
 * Activates a backend. 'auto' tries native, then wasm; a named backend that cannot be used
 * falls back the same way with one line on stderr saying so (unless `quiet`).
 */
export async function useBackend(choice: BackendChoice = 'auto', opts: { quiet?: boolean } = {}): Promise<BackendName> {
  const order = choice === 'auto' ? BACKEND_PREFERENCE : [choice, ...BACKEND_PREFERENCE.filter((b) => b !== choice)];
  for (const name of order) {
    if (active === name && tf.getBackend() === name) return name;
    const why = await BACKENDS[name].prepare();
    if (why === null && (await tf.setBackend(name))) {
      await tf.ready();
      active = name;
      return name;
    }
    // One line, once per process, whenever a backend asked for (or preferred by 'auto') is skipped.
    if (!opts.quiet && !warned.has(name)) {
      warned.add(name);
      process.stderr.write(`visemo: ${why ?? `backend ${name} failed to start`}; using the next available backend\n`);
    }
  }
  throw new Error('no tfjs backend could be started');
}

export function activeBackend(): BackendName | null {
  return active;
}
