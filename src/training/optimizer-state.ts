/**
 * Adam's state in and out of a checkpoint, exactly: its weights and the bias-correction
 * accumulators that tfjs keeps outside getWeights(), so a resumed run goes on as an uninterrupted one.
 */
import { tf } from '../engine/tf.js';
import { loadTensors, saveTensors } from '../model/model-io.js';

/** Adam's bias-correction accumulators (β^t, multiplied step by step), which tfjs keeps outside getWeights(). */
interface AdamAccumulators {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
}
const ACC_NAMES = ['visemo/accBeta1', 'visemo/accBeta2'] as const;
/** The one entry of Adam's getWeights() that is a new tensor (the step count), not one of its variables. */
const ITERATIONS = 'iter';

/** The optimizer's state for a checkpoint: its weights, and the accumulators as they are. */
async function optimizerState(optimizer: tf.AdamOptimizer): Promise<{ name: string; tensor: tf.Tensor }[]> {
  const acc = optimizer as unknown as AdamAccumulators;
  return [...(await optimizer.getWeights()), { name: ACC_NAMES[0], tensor: acc.accBeta1 }, { name: ACC_NAMES[1], tensor: acc.accBeta2 }];
}

/** Writes the optimizer's state into a checkpoint folder; the step-count tensor made for it is freed. */
export async function saveOptimizer(optimizer: tf.AdamOptimizer, dir: string): Promise<void> {
  const state = await optimizerState(optimizer);
  try {
    await saveTensors(state, dir, 'optimizer');
  } finally {
    tf.dispose(state.filter((w) => w.name === ITERATIONS).map((w) => w.tensor));
  }
}

/**
 * Restores a checkpoint's optimizer state exactly. tfjs' setWeights recomputes the accumulators
 * as pow(β, t), which differs in float32 from the product the steps built, so a resumed run
 * drifted from an uninterrupted one; they are carried instead (older checkpoints lack them).
 * The tensors read are freed after: the optimizer's variables hold their own references.
 */
export async function restoreOptimizer(optimizer: tf.AdamOptimizer, dir: string): Promise<void> {
  const saved = await loadTensors(dir, 'optimizer');
  try {
    const isAcc = (n: string) => (ACC_NAMES as readonly string[]).includes(n);
    await optimizer.setWeights(saved.filter((w) => !isAcc(w.name)));
    const acc = optimizer as unknown as AdamAccumulators;
    for (const w of saved.filter((x) => isAcc(x.name))) (w.name === ACC_NAMES[0] ? acc.accBeta1 : acc.accBeta2).assign(w.tensor);
  } finally {
    tf.dispose(saved.map((w) => w.tensor));
  }
}
