/** A Keras-style model summary (layer, output shape, parameters), as printed in the paper's Figs. 3.1–3.3. */
import type { tf } from '../engine/tf.js';

export interface LayerRow {
  name: string;
  type: string;
  outputShape: (number | null)[];
  params: number;
}

export interface ModelSummary {
  /** The model's own name: 'paper_cnn', 'visemo_net'. */
  model: string;
  layers: LayerRow[];
  total: number;
  trainable: number;
  nonTrainable: number;
}

export function summarise(model: tf.LayersModel): ModelSummary {
  const layers = model.layers.map((l) => ({
    name: l.name,
    type: l.getClassName(),
    outputShape: l.outputShape as (number | null)[],
    params: l.countParams(),
  }));
  const trainable = model.trainableWeights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
  const total = model.countParams();
  return { model: model.name, layers, total, trainable, nonTrainable: total - trainable };
}

const fmt = (n: number) => n.toLocaleString('en-US');
const shape = (s: (number | null)[]) => `(${s.map((d) => (d === null ? 'None' : String(d))).join(', ')})`;

export function formatSummary(s: ModelSummary, title = 'Model: "sequential"'): string {
  const widths = [34, 28, 12];
  const row = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('')
      .trimEnd();
  const rule = (ch: string) => ch.repeat(widths.reduce((a, b) => a + b));
  const lines = [title, rule('_'), row(['Layer (type)', 'Output Shape', 'Param #']), rule('=')];
  s.layers.forEach((l, i) => {
    lines.push(row([`${l.name} (${l.type})`, shape(l.outputShape), fmt(l.params)]));
    lines.push(i === s.layers.length - 1 ? rule('=') : rule('_'));
  });
  lines.push(`Total params: ${fmt(s.total)}`, `Trainable params: ${fmt(s.trainable)}`, `Non-trainable params: ${fmt(s.nonTrainable)}`, rule('_'));
  return lines.join('\n');
}
