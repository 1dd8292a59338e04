/**
 * One epoch of training: the seeded shuffle and augmentation, the steps, the validation pass and
 * the divergence check (a non-finite loss stops the run before anything of the epoch is saved).
 */
import type { TrainRecipe } from '../config/recipe.js';
import { batchInput, type DecodedSet, type Normalisation } from '../data/decoded-set.js';
import { tf } from '../engine/tf.js';
import { predictSet } from '../model/predict-set.js';
import type { EpochRecord } from '../model/run-folder.js';
import { argmax } from '../util/argmax.js';
import { VisemoError } from '../util/errors.js';
import { startProgress } from '../util/progress.js';
import { createRng, shuffleInPlace } from '../util/random.js';
import { augmentBatch, isIdentity, type TrainAugment } from './augment.js';
import { withStepDropout } from './dropout-masks.js';
import { mixTargets } from './teacher.js';

export interface EpochContext {
  recipe: TrainRecipe;
  augment: TrainAugment;
  norm: Normalisation;
  epoch: number;
  numClasses: number;
  labelSmoothing: number;
  teacher: { probs: Float32Array; weight: number } | null;
  /** Per-row label targets where the dataset gives soft ones (else one-hot labels are used). */
  labelRows: Float32Array | null;
  learningRate: number;
  /** The last finished epoch, whose weights the run keeps if this one diverges. */
  kept: number;
  runDir: string;
}

/**
 * A loss that is no longer a finite number: the weights are NaN or infinite from here on, and
 * nothing of this epoch may be saved. The run keeps its last finished epoch.
 */
function diverged(ctx: EpochContext, loss: number, where: string): VisemoError {
  const lr = ctx.learningRate;
  return new VisemoError(
    `training diverged at epoch ${ctx.epoch}, ${where}: the loss is ${loss} (learning rate ${lr}); nothing of epoch ${ctx.epoch} was saved` +
      (ctx.kept > 0 ? `, ${ctx.runDir} keeps epoch ${ctx.kept}'s checkpoint and its best model` : `, and ${ctx.runDir} holds no model yet`),
    `train again with a lower --lr (e.g. --lr ${(lr / 10).toPrecision(2)}) and --force, or into another --out`,
  );
}

export async function trainEpoch(model: tf.LayersModel, train: DecodedSet, val: DecodedSet, ctx: EpochContext): Promise<EpochRecord> {
  // Seeded per epoch, so a resumed run sees the same order an uninterrupted one would.
  const { batchSize, seed, epochs, channels } = ctx.recipe;
  const order = shuffleInPlace(
    Array.from({ length: train.labels.length }, (_, i) => i),
    createRng(seed * 1000 + ctx.epoch),
  );
  const steps = Math.ceil(order.length / batchSize);
  const bar = startProgress(steps, `epoch ${ctx.epoch}/${epochs}`, 'loss {loss} acc {acc}');
  let lossSum = 0;
  let accSum = 0;
  let seen = 0;
  // Its own seeded stream per epoch, like the order: a resumed run augments as an uninterrupted one.
  const augment = isIdentity(ctx.augment) ? null : ctx.augment;
  const augRng = createRng((seed * 1000 + ctx.epoch) ^ 0x5bd1e995);
  const start = performance.now();
  for (let s = 0; s < steps; s++) {
    const idx = order.slice(s * batchSize, (s + 1) * batchSize);
    const x = augment
      ? batchInput(
          augmentBatch(train, idx, augment, augRng),
          idx.map((_, k) => k),
          ctx.norm,
          channels,
        )
      : batchInput(train, idx, ctx.norm, channels);
    const y = tf.tensor2d(mixTargets(train.labels, ctx.numClasses, ctx.labelSmoothing, ctx.teacher, idx, ctx.labelRows), [idx.length, ctx.numClasses]);
    const step = (ctx.epoch - 1) * steps + s;
    const [loss, acc] = (await withStepDropout(model, step, () => model.trainOnBatch(x, y))) as number[];
    x.dispose();
    y.dispose();
    if (!Number.isFinite(loss)) {
      bar.stop();
      throw diverged(ctx, loss!, `step ${s + 1} of ${steps}`);
    }
    lossSum += loss! * idx.length;
    accSum += acc! * idx.length;
    seen += idx.length;
    bar.update(s + 1, { loss: (lossSum / seen).toFixed(4), acc: (accSum / seen).toFixed(4) });
  }
  const seconds = (performance.now() - start) / 1000;
  bar.stop();
  const v = val.labels.length > 0 ? evaluateLossAcc(model, val, ctx.norm, channels) : { loss: NaN, acc: NaN };
  // The last step's update can still turn the weights non-finite: the validation loss tells.
  if (val.labels.length > 0 && !Number.isFinite(v.loss)) throw diverged(ctx, v.loss, 'on the validation images');
  return { epoch: ctx.epoch, loss: lossSum / seen, acc: accSum / seen, valLoss: v.loss, valAcc: v.acc, seconds, msPerStep: (seconds * 1000) / steps };
}

function evaluateLossAcc(model: tf.LayersModel, set: DecodedSet, norm: Normalisation, channels: 1 | 3): { loss: number; acc: number } {
  const probs = predictSet(model, set, norm, channels);
  let loss = 0;
  let correct = 0;
  probs.forEach((p, i) => {
    const truth = set.labels[i]!;
    loss -= Math.log(Math.max(p[truth]!, 1e-7));
    if (argmax(p) === truth) correct++;
  });
  return { loss: loss / probs.length, acc: correct / probs.length };
}

/** An epoch's line in the log; `best` marks the epoch whose model was kept. */
export function formatEpoch(r: EpochRecord, epochs: number, best: boolean): string {
  const f = (n: number) => (Number.isNaN(n) ? '  n/a ' : n.toFixed(4));
  return (
    `epoch ${String(r.epoch).padStart(String(epochs).length)}/${epochs}  loss ${f(r.loss)}  acc ${f(r.acc)}  ` +
    `val_loss ${f(r.valLoss)}  val_acc ${f(r.valAcc)}  ${r.seconds.toFixed(1)} s (${r.msPerStep.toFixed(0)} ms/step)${best ? '  * best' : ''}`
  );
}
