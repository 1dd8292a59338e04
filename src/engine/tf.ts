/**
 * The one file that imports and configures tfjs. Everything that computes imports `tf` from here
 * (through backend.ts until callers move), so every module shares one configured tfjs engine.
 */
import * as tf from '@tensorflow/tfjs';
// Registers the 'wasm' backend with tfjs; backend.ts decides whether it is used.
import '@tensorflow/tfjs-backend-wasm';

export { tf };

// Production mode skips tfjs's debug checks (NaN scans, shape asserts on every op) and its
// console advice to install tfjs-node, which cannot be installed here.
tf.enableProdMode();
