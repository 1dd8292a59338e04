/**
 * Turns saved experiment results into a report document: sections of paragraphs, tables and
 * figures in the paper's order, each table cell carrying both its shown text and its exact value.
 * HTML, Markdown and CSV are renderings of this one document, so they cannot disagree.
 */
import { formatSummary } from '../model/summary.js';
import { confusionSpec, curvesSpec, epochTimeSpec, renderSvg, type EpochTimeBar } from './charts.js';
import { duration, integer, isGpuBackend, ratio, seconds, sizeLabel } from './format.js';
import { pct } from '../util/table.js';
import {
  PAPER_CITATION,
  PAPER_DATASET,
  PAPER_FIG4,
  PAPER_SPLIT,
  PAPER_TABLE1,
  paperForSize,
} from './paper-reference.js';
import { SPLITS, type ExperimentResults, type SizeResult } from './types.js';

/** A table cell: the text shown, and the exact number behind it (for CSV and data-value). */
export interface Cell {
  text: string;
  value?: number;
}

export interface Table {
  /** File-safe id: the CSV is tables/<id>.csv and the HTML table's id. */
  id: string;
  caption: string;
  columns: string[];
  rows: Cell[][];
  /** Written as CSV only, not shown in the report (long per-epoch data). */
  csvOnly?: boolean;
}

export interface Figure {
  /** File-safe id: figures/<id>.svg and .png. */
  id: string;
  caption: string;
  svg: string;
}

export type Block =
  | { kind: 'paragraph'; text: string }
  | { kind: 'table'; table: Table }
  | { kind: 'figure'; figure: Figure }
  | { kind: 'preformatted'; text: string };

export interface Section {
  id: string;
  title: string;
  blocks: Block[];
}

export interface ReportDocument {
  title: string;
  sections: Section[];
}

const NONE: Cell = { text: '—' };
const text = (t: string): Cell => ({ text: t });
const num = (value: number, format: (n: number) => string): Cell => ({ text: format(value), value });
const maybe = (value: number | undefined, format: (n: number) => string): Cell => (value === undefined ? NONE : num(value, format));
const paragraph = (t: string): Block => ({ kind: 'paragraph', text: t });
const tableBlock = (table: Table): Block => ({ kind: 'table', table });

/** Training accuracy in the epoch whose model was kept (best validation accuracy), the model the test scores. */
export function keptTrainAccuracy(r: SizeResult): number | undefined {
  return r.history.epochs.find((e) => e.epoch === r.history.bestEpoch)?.acc;
}

export function meanEpochSeconds(r: SizeResult): number {
  const e = r.history.epochs;
  return e.length === 0 ? 0 : e.reduce((a, x) => a + x.seconds, 0) / e.length;
}

export function totalTrainingSeconds(r: SizeResult): number {
  return r.history.epochs.reduce((a, x) => a + x.seconds, 0);
}

export function splitDescription(results: ExperimentResults): string {
  const s = results.settings;
  if (results.sizes[0]?.metadata.split.mode === 'given') {
    return "the dataset's own train/val/test folders (whether a person appears in more than one is up to the dataset).";
  }
  if (s.split === 'subject') {
    return (
      `subject-independent split (seed ${s.seed}): every subject's images are in exactly one of train, validation and test` +
      (s.subjectPattern ? `, subjects read from file names with the pattern ${s.subjectPattern}` : '') +
      ', so the test accuracy measures recognition of people the model has never seen.'
    );
  }
  return (
    `random split of images (seed ${s.seed}): images of the same person — and frames of the same video — can be in both ` +
    'train and test, so the test accuracy is higher than a subject-independent split would give and is not the same experiment.'
  );
}

function overview(results: ExperimentResults): Section {
  const s = results.settings;
  const backends = [...new Set(results.sizes.map((r) => r.metadata.training.backend))];
  const classes = results.sizes[0]?.metadata.classes ?? s.classes ?? [];
  return {
    id: 'overview',
    title: 'Experiment',
    blocks: [
      paragraph(
        `Reproduction of ${PAPER_CITATION}: the paper's CNN trained at input sizes ${s.sizes.map(sizeLabel).join(', ')} ` +
          `on the same split with the same seed, each evaluated on the test split.`,
      ),
      tableBlock({
        id: 'settings',
        caption: 'Settings',
        columns: ['Setting', 'This run', 'Paper'],
        rows: [
          [text('Dataset'), text(results.dataset), text(PAPER_DATASET)],
          [text('Classes'), text(`${classes.length}: ${classes.join(', ')}`), text('6: anger, disgust, fear, happiness, sadness, surprise')],
          [text('Split'), text(splitDescription(results)), text(PAPER_SPLIT)],
          [text('Epochs'), text(String(s.epochs)), NONE],
          [text('Batch size'), text(String(s.batchSize)), NONE],
          [text('Learning rate'), text(String(s.learningRate)), NONE],
          [text('Input channels'), text(String(s.channels)), text(String(3))],
          ...(s.limitPerClass ? [[text('Images per class (limit)'), text(String(s.limitPerClass)), NONE]] : []),
          [text('Backend'), text(backends.join(', ') || s.backend), text('Keras on Google Colab (CPU, and a K80 GPU)')],
          [text('Processor'), text(`${results.machine.processor} (${results.machine.cores} cores)`), text('not stated')],
          [text('Platform'), text(`${results.machine.platform}, Node ${results.machine.node}`), NONE],
          [text('Finished'), text(results.updatedAt), text('2022')],
        ],
      }),
    ],
  };
}

function comparison(results: ExperimentResults): Section {
  const rows = results.sizes.map((r) => {
    const p = paperForSize(r.size);
    const best = r.history.epochs.find((e) => e.epoch === r.history.bestEpoch);
    const test = r.metrics.accuracy;
    return [
      text(sizeLabel(r.size)),
      num(test, pct),
      p ? num(p.testAccuracy.value / 100, pct) : NONE,
      p ? num((test * 100 - p.testAccuracy.value), (d) => `${d >= 0 ? '+' : ''}${d.toFixed(2)} pp`) : NONE,
      maybe(keptTrainAccuracy(r), pct),
      p ? num(p.trainAccuracy.value / 100, pct) : NONE,
      best ? { text: `${pct(best.valAcc)} (epoch ${best.epoch})`, value: best.valAcc } : NONE,
      num(r.metrics.n, integer),
    ];
  });
  return {
    id: 'comparison',
    title: 'Comparison with the paper',
    blocks: [
      paragraph(`Split used here: ${splitDescription(results)} The paper's split: ${PAPER_SPLIT}.`),
      paragraph(
        'Test figures are those of the model training kept: the epoch with the best validation accuracy. ' +
          "The paper does not say which epoch it tested; its train accuracies are quoted from Section 2.",
      ),
      tableBlock({
        id: 'comparison',
        caption: 'Test accuracy per input size against the paper (Section 2: 90.75% at 100×100, 87% at 50×50, 72.39% at 20×20)',
        columns: ['Input size', 'Test accuracy', 'Paper test accuracy', 'Difference', 'Train accuracy (kept epoch)', 'Paper train accuracy', 'Best validation accuracy', 'Test images'],
        rows,
      }),
    ],
  };
}

function table1(results: ExperimentResults): Section {
  const classes = Object.keys(results.counts);
  const paper = PAPER_TABLE1.value;
  const rows = classes.map((c) => {
    const n = results.counts[c]!;
    const total = SPLITS.reduce((a, s) => a + (n[s] ?? 0), 0);
    return [
      text(c),
      ...SPLITS.map((s) => maybe(n[s], integer)),
      num(total, integer),
      ...SPLITS.map((s) => maybe(paper[c]?.[s], integer)),
    ];
  });
  const sum = (s: (typeof SPLITS)[number]) => classes.reduce((a, c) => a + (results.counts[c]![s] ?? 0), 0);
  const paperSum = (s: (typeof SPLITS)[number]) => Object.values(paper).reduce((a, n) => a + n[s], 0);
  rows.push([
    text('total'),
    ...SPLITS.map((s) => num(sum(s), integer)),
    num(SPLITS.reduce((a, s) => a + sum(s), 0), integer),
    ...SPLITS.map((s) => num(paperSum(s), integer)),
  ]);
  return {
    id: 'table1',
    title: 'Table 1 — images per class and split',
    blocks: [
      tableBlock({
        id: 'table1-counts',
        caption: `Images per class and split (this run beside the paper's ${PAPER_TABLE1.source})`,
        columns: ['Class', 'Train', 'Validation', 'Test', 'Total', 'Paper train', 'Paper validation', 'Paper test'],
        rows,
      }),
    ],
  };
}

function fig4(results: ExperimentResults): Section {
  const rows: Cell[][] = [];
  for (const r of results.sizes) {
    const { mean, std } = r.metadata.normalisation;
    mean.forEach((m, i) => {
      const channel = mean.length === 1 ? 'gray' : (['R', 'G', 'B'][i] ?? String(i));
      rows.push([
        text(sizeLabel(r.size)),
        text(channel),
        num(m, (x) => x.toFixed(4)),
        num(std[i]!, (x) => x.toFixed(4)),
        num(PAPER_FIG4.value.mean[Math.min(i, 2)]!, (x) => x.toFixed(4)),
        num(PAPER_FIG4.value.std[Math.min(i, 2)]!, (x) => x.toFixed(4)),
      ]);
    });
  }
  return {
    id: 'fig4',
    title: 'Fig. 4 — per-channel mean and standard deviation',
    blocks: [
      paragraph(
        'Computed on the training images after resizing, on 0–1 pixels, and used to normalise the network input. ' +
          "The paper's values (Fig. 4) are for its 416×416 eNTERFACE'05 frames; its three channels are equal because the images are monochrome.",
      ),
      tableBlock({
        id: 'fig4-normalisation',
        caption: 'Per-channel mean and standard deviation of the training split',
        columns: ['Input size', 'Channel', 'Mean', 'Std', 'Paper mean', 'Paper std'],
        rows,
      }),
    ],
  };
}

function fig3(results: ExperimentResults): Section {
  const classes = results.sizes[0]?.metadata.classes.length ?? 0;
  const channels = results.settings.channels;
  const blocks: Block[] = [
    paragraph(
      `The paper's parameter counts are for 6 classes and 3 input channels; this run has ${classes} classes and ${channels} channel${channels === 1 ? '' : 's'}` +
        (classes === 6 && channels === 3 ? ', so the counts should match exactly.' : ', so the first convolution and last dense layer differ.'),
    ),
    tableBlock({
      id: 'fig3-parameters',
      caption: 'Parameters per input size (paper: Figs. 3.1–3.3)',
      columns: ['Input size', 'Total parameters', 'Trainable', 'Paper total', 'Paper figure'],
      rows: results.sizes.map((r) => {
        const p = paperForSize(r.size);
        return [
          text(sizeLabel(r.size)),
          num(r.summary.total, integer),
          num(r.summary.trainable, integer),
          p ? num(p.params.value, integer) : NONE,
          text(p?.summaryFigure ?? '—'),
        ];
      }),
    }),
  ];
  for (const r of results.sizes) {
    blocks.push({ kind: 'preformatted', text: formatSummary(r.summary, `Model: "${r.summary.model ?? 'paper_cnn'}" (${sizeLabel(r.size)})`) });
  }
  return { id: 'fig3', title: 'Figs. 3.1–3.3 — model summary per size', blocks };
}

async function table2(results: ExperimentResults): Promise<Section> {
  const processor = results.machine.processor;
  const anyGpu = results.sizes.some((r) => isGpuBackend(r.metadata.training.backend));
  const rows = results.sizes.map((r) => {
    const p = paperForSize(r.size);
    const backend = r.metadata.training.backend;
    const mean = meanEpochSeconds(r);
    const gpu = isGpuBackend(backend);
    const msPerStep = r.history.epochs.reduce((a, e) => a + e.msPerStep, 0) / Math.max(1, r.history.epochs.length);
    const total = totalTrainingSeconds(r);
    return [
      text(sizeLabel(r.size)),
      text(backend),
      gpu ? NONE : num(mean, seconds),
      ...(anyGpu ? [gpu ? num(mean, seconds) : NONE] : []),
      num(msPerStep, (x) => x.toFixed(1)),
      num(r.history.epochs.length, integer),
      num(total, duration),
      p ? num(p.secondsPerEpoch.value.cpu, String) : NONE,
      p ? num(p.secondsPerEpoch.value.gpu, String) : NONE,
      p ? num(p.totalMinutes.value * 60, duration) : NONE,
    ];
  });
  const machine = `this machine: ${processor}`;
  const sources = [...new Set(results.sizes.map((r) => `this machine (${r.metadata.training.backend})`)), 'paper CPU', 'paper GPU (K80)'];
  const sizes = results.sizes.map((r) => sizeLabel(r.size));
  const bars: EpochTimeBar[] = results.sizes.flatMap((r) => {
    const p = paperForSize(r.size);
    const own = { size: sizeLabel(r.size), source: `this machine (${r.metadata.training.backend})`, seconds: meanEpochSeconds(r) };
    if (!p) return [own];
    return [
      own,
      { size: sizeLabel(r.size), source: 'paper CPU', seconds: p.secondsPerEpoch.value.cpu },
      { size: sizeLabel(r.size), source: 'paper GPU (K80)', seconds: p.secondsPerEpoch.value.gpu },
    ];
  });
  const chart = await renderSvg(epochTimeSpec('Seconds per epoch: this machine and the paper (Table 2)', bars, sources, sizes));
  return {
    id: 'table2',
    title: 'Table 2 — seconds per epoch',
    blocks: [
      paragraph(
        `Training pass only (validation excluded), mean over epochs, measured on ${processor} (${results.machine.cores} cores) ` +
          `with the ${[...new Set(results.sizes.map((r) => r.metadata.training.backend))].join('/')} backend. ` +
          `The paper's times are per epoch of its ${integer(Object.values(PAPER_TABLE1.value).reduce((a, n) => a + n.train, 0))} training images on Google Colab; ` +
          'times scale with the number of training images, so compare per-image cost, not raw seconds, across datasets.',
      ),
      tableBlock({
        id: 'table2-epoch-seconds',
        caption: `Seconds per epoch per input size (${machine}; paper: Table 2, total time: Section 2)`,
        columns: [
          'Input size',
          'Backend',
          'CPU s/epoch (this machine)',
          ...(anyGpu ? ['GPU s/epoch (this machine)'] : []),
          'ms per step',
          'Epochs',
          'Total training time',
          'Paper CPU s/epoch',
          'Paper GPU s/epoch',
          'Paper total time',
        ],
        rows,
      }),
      { kind: 'figure', figure: { id: 'epoch-seconds', caption: 'Seconds per epoch, this machine beside the paper (Table 2)', svg: chart } },
    ],
  };
}

async function curves(results: ExperimentResults): Promise<Section> {
  const blocks: Block[] = [];
  for (const r of results.sizes) {
    const p = paperForSize(r.size);
    const caption = `${sizeLabel(r.size)}: training and validation accuracy and loss per epoch` + (p ? ` (paper: ${p.curvesFigure})` : ' (no counterpart in the paper)');
    blocks.push({ kind: 'figure', figure: { id: `curves-${r.size}`, caption, svg: await renderSvg(curvesSpec(caption, r.history)) } });
  }
  const historyRows = results.sizes.flatMap((r) =>
    r.history.epochs.map((e) => [
      num(r.size, String),
      num(e.epoch, String),
      num(e.loss, ratio),
      num(e.acc, ratio),
      num(e.valLoss, ratio),
      num(e.valAcc, ratio),
      num(e.seconds, seconds),
      num(e.msPerStep, (x) => x.toFixed(1)),
    ]),
  );
  blocks.push(
    tableBlock({
      id: 'history',
      caption: 'Per-epoch history of every size',
      columns: ['size', 'epoch', 'loss', 'acc', 'val_loss', 'val_acc', 'seconds', 'ms_per_step'],
      rows: historyRows,
      csvOnly: true,
    }),
  );
  return { id: 'curves', title: 'Figs. 5, 7, 9 — accuracy and loss per epoch', blocks };
}

async function confusion(results: ExperimentResults): Promise<Section> {
  const blocks: Block[] = [];
  for (const r of results.sizes) {
    const p = paperForSize(r.size);
    const ref = p ? ` (paper: ${p.confusionFigure})` : '';
    const { classes, confusion: m } = r.metrics;
    for (const normalised of [false, true]) {
      const kind = normalised ? 'row-normalised (recall on the diagonal)' : 'counts';
      const caption = `${sizeLabel(r.size)}: confusion matrix on the test split, ${kind}${ref}`;
      blocks.push({
        kind: 'figure',
        figure: { id: `confusion-${r.size}-${normalised ? 'normalised' : 'counts'}`, caption, svg: await renderSvg(confusionSpec(`${sizeLabel(r.size)} test split: ${normalised ? 'row-normalised' : 'counts'}`, classes, m, normalised)) },
      });
    }
    blocks.push(
      tableBlock({
        id: `confusion-${r.size}`,
        caption: `${sizeLabel(r.size)}: confusion matrix (rows true, columns predicted)`,
        columns: ['true \\ predicted', ...classes],
        rows: m.map((row, t) => [text(classes[t]!), ...row.map((n) => num(n, integer))]),
        csvOnly: true,
      }),
    );
  }
  return {
    id: 'confusion',
    title: 'Figs. 6, 8, 10 — confusion matrices',
    blocks: [paragraph('Rows are the true class, columns the predicted class; the test split of each size.'), ...blocks],
  };
}

function perClass(results: ExperimentResults): Section {
  const blocks: Block[] = [
    paragraph("The paper gives precision and recall for 50×50 (Table 3) and 20×20 (Table 4); '—' marks values it does not give."),
  ];
  for (const r of results.sizes) {
    const p = paperForSize(r.size)?.perClass;
    const rows = r.metrics.perClass.map((c) => [
      text(c.class),
      num(c.precision, ratio),
      num(c.recall, ratio),
      num(c.f1, ratio),
      num(c.support, integer),
      maybe(p?.value[c.class]?.precision, (x) => x.toFixed(2)),
      maybe(p?.value[c.class]?.recall, (x) => x.toFixed(2)),
    ]);
    const avg = (name: string, a: { precision: number; recall: number; f1: number }) => [
      text(name),
      num(a.precision, ratio),
      num(a.recall, ratio),
      num(a.f1, ratio),
      num(r.metrics.n, integer),
      NONE,
      NONE,
    ];
    rows.push(avg('macro average', r.metrics.macro), avg('weighted average', r.metrics.weighted));
    blocks.push(
      tableBlock({
        id: `metrics-${r.size}`,
        caption: `${sizeLabel(r.size)}: precision, recall, F1 and support per class on the test split` + (p ? ` (paper: ${p.source})` : ''),
        columns: ['Class', 'Precision', 'Recall', 'F1', 'Support', 'Paper precision', 'Paper recall'],
        rows,
      }),
    );
  }
  return { id: 'per-class', title: 'Tables 3 and 4 — precision and recall per class', blocks };
}

/** Builds the whole report (renders every chart to SVG). */
export async function buildReportDocument(results: ExperimentResults): Promise<ReportDocument> {
  if (results.sizes.length === 0) throw new Error('the experiment has no finished size to report');
  return {
    title: `visemo experiment — ${results.dataset} at ${results.sizes.map((r) => sizeLabel(r.size)).join(', ')}`,
    sections: [
      overview(results),
      comparison(results),
      table1(results),
      fig4(results),
      fig3(results),
      await table2(results),
      await curves(results),
      await confusion(results),
      perClass(results),
    ],
  };
}
