/**
 * Learning-rate schedules, one rate per epoch. tfjs' AdamOptimizer reads its `learningRate`
 * field on every update (tfjs' own applyGradients and the native backend's fused Adam alike),
 * so setting it before an epoch changes the rate of that epoch's steps.
 */
import type { tf } from '../engine/tf.js';
import { LR_SCHEDULES, type LrSchedule } from '../config/recipe.js';
import { VisemoError } from '../util/errors.js';

/** Cosine decays to this share of the initial rate by the last epoch. */
export const COSINE_FLOOR = 0.01;
/** Step decay: the rate is multiplied by STEP_FACTOR at each third of the epochs. */
export const STEP_FACTOR = 0.1;

export function parseLrSchedule(name: string): LrSchedule {
  if ((LR_SCHEDULES as readonly string[]).includes(name)) return name as LrSchedule;
  throw new VisemoError(`--lr-schedule '${name}' is not a schedule`, `use one of ${LR_SCHEDULES.join(', ')}`);
}

/**
 * The learning rate of `epoch` (1-based) of `epochs`:
 * - constant: `base` throughout;
 * - cosine: from `base` at epoch 1 down to base·COSINE_FLOOR at the last epoch, half a cosine;
 * - step: `base`, then ×0.1 after a third of the epochs and ×0.01 after two thirds.
 */
export function learningRateAt(schedule: LrSchedule, base: number, epoch: number, epochs: number): number {
  if (!(epoch >= 1 && epoch <= epochs)) throw new RangeError(`epoch ${epoch} is outside 1..${epochs}`);
  switch (schedule) {
    case 'constant':
      return base;
    case 'cosine': {
      const progress = epochs === 1 ? 0 : (epoch - 1) / (epochs - 1);
      return base * (COSINE_FLOOR + (1 - COSINE_FLOOR) * 0.5 * (1 + Math.cos(Math.PI * progress)));
    }
    case 'step':
      return base * STEP_FACTOR ** Math.floor((3 * (epoch - 1)) / epochs);
  }
}

/** Sets the rate an optimizer uses from its next update on (tfjs keeps it in a protected field). */
export function setLearningRate(optimizer: tf.Optimizer, rate: number): void {
  const o = optimizer as unknown as { learningRate?: number };
  if (typeof o.learningRate !== 'number') throw new Error(`optimizer ${optimizer.getClassName()} has no numeric learningRate to schedule`);
  o.learningRate = rate;
}
