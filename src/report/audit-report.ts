/**
 * `visemo audit`'s report: the same document model as the experiment's report (document.ts), so
 * it renders to the same self-contained HTML, Markdown and CSV tables, with Vega-Lite charts —
 * accuracy per group with its interval, per model, and recall per class by group as a heat map —
 * beside audit.json and predictions.csv. An audit folder is only replaced with --force.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { accuracyText, listSome, mostOverPredicted, type BreakdownAudit, type ModelAudit } from '../evaluation/audit.js';
import { formatDifference, formatWithInterval } from '../evaluation/intervals.js';
import { formatP } from '../evaluation/mcnemar.js';
import { AUDIT_FORMAT, type AuditPrediction, type AuditResult } from '../evaluation/run-audit.js';
import { MAX_PAIRS_SHOWN } from '../evaluation/audit-format.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { VisemoError } from '../util/errors.js';
import { intervalSpec, renderSvg, shareHeatmapSpec } from './charts.js';
import { tableToCsv } from './csv.js';
import type { Block, Cell, ReportDocument, Section, Table } from './document.js';
import { duration, integer, ratio } from './format.js';
import { writeDocument, type WrittenReport } from './write-report.js';

export const AUDIT_FILE = 'audit.json';
export const PREDICTIONS_FILE = 'predictions.csv';

const text = (t: string): Cell => ({ text: t });
const num = (value: number, format: (n: number) => string): Cell => ({ text: format(value), value });
const share = (x: number) => `${(x * 100).toFixed(1)} %`;
const paragraph = (t: string): Block => ({ kind: 'paragraph', text: t });
const tableBlock = (table: Table): Block => ({ kind: 'table', table });

/** A file-safe id part: a model may be a run folder's path, a group any text. */
export function slug(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'x'
  );
}

export async function buildAuditDocument(r: AuditResult): Promise<ReportDocument> {
  const sections: Section[] = [overview(r)];
  for (const b of r.breakdowns) {
    sections.push(await breakdownSection(r, b));
    // One section per model, so the contents list leads to each model's groups.
    for (const m of b.models)
      sections.push({ id: `by-${slug(b.name)}-${slug(m.model)}`, title: `By ${b.name}: ${m.model}`, blocks: await modelBlocks(r, b, m, slug(b.name)) });
  }
  sections.push(method(r));
  return { title: `Accuracy by group: ${r.models.map((m) => m.model).join(', ')}`, sections };
}

function overview(r: AuditResult): Section {
  const blocks: Block[] = [
    paragraph(
      `${integer(r.scored)} of ${integer(r.images)} images scored from ${r.data.join(', ')}, grouped by ${r.rule}. ` +
        (r.crops
          ? 'The images are face crops, classified whole. '
          : `Faces were found by the ${r.detector} detector (the most confident face of each photo) and cut for each model as its training faces were cut. `) +
        `Classes: ${r.classes.join(', ')}; each model picks the most probable of these.${r.tta ? ' visemo models average each face with its mirror image.' : ''}`,
    ),
    tableBlock({
      id: 'models',
      caption: 'Models audited',
      columns: ['model', 'source', 'input', 'runtime', 'accuracy over every grouped image (95% CI)'],
      rows: r.models.map((m, k) => {
        const all = r.breakdowns[0]?.models[k]?.overall;
        return [
          text(m.model),
          text(m.source),
          text(`${m.inputSize}×${m.inputSize}`),
          text(m.runtime),
          all ? { text: accuracyText(all), value: all.accuracy } : text('—'),
        ];
      }),
    }),
  ];
  if (r.skipped.length > 0) {
    blocks.push(
      paragraph(
        `${r.skipped.length} image${r.skipped.length === 1 ? ' was' : 's were'} left out for every model (no face found, or unreadable): listed in the CSV below.`,
      ),
    );
    blocks.push(
      tableBlock({
        id: 'skipped',
        caption: 'Images left out',
        columns: ['image', 'reason'],
        rows: r.skipped.map((s) => [text(s.path), text(s.reason)]),
        csvOnly: true,
      }),
    );
  }
  blocks.push(paragraph(`Run on ${r.machine.processor} (${r.machine.cores} cores), tfjs backend ${r.backend}, in ${duration(r.seconds)}; ${r.createdAt}.`));
  return { id: 'overview', title: 'What was audited', blocks };
}

async function breakdownSection(r: AuditResult, b: BreakdownAudit): Promise<Section> {
  const id = slug(b.name);
  const groups = b.models[0]?.groups.map((g) => g.group) ?? [];
  const blocks: Block[] = [
    paragraph(
      `${groups.length} group${groups.length === 1 ? '' : 's'} by ${b.name}, ${integer(b.n)} images` +
        (b.ungrouped ? ` (${integer(b.ungrouped)} without a ${b.name} are not counted here)` : '') +
        '.' +
        (b.leftOut.length ? ` Groups under ${r.minGroup} images (--min-group) are shown but left out of the between-group tests: ${listSome(b.leftOut)}.` : ''),
    ),
  ];
  const points = b.models.flatMap((m) =>
    m.groups.map((g) => ({ x: g.group, series: m.model, value: g.accuracy, lower: g.interval.lower, upper: g.interval.upper })),
  );
  const caption = `Accuracy per ${b.name} with 95 % Wilson intervals (error bars), per model${b.leftOut.length ? `; left out of the tests: ${listSome(b.leftOut)}` : ''}`;
  blocks.push({
    kind: 'figure',
    figure: {
      id: `${id}-accuracy`,
      caption,
      svg: await renderSvg(
        intervalSpec(
          `Accuracy per ${b.name}`,
          points,
          groups,
          b.models.map((m) => m.model),
          b.name,
        ),
      ),
    },
  });
  if (b.models.length > 1) blocks.push(...modelComparison(r, b, id, groups));
  return { id: `by-${id}`, title: `By ${b.name}${b.models.length > 1 ? ': every model' : ''}`, blocks };
}

function modelComparison(r: AuditResult, b: BreakdownAudit, id: string, groups: string[]): Block[] {
  const modelTable: Table = {
    id: `${id}-model-by-group`,
    caption: `Accuracy (95% CI), model × ${b.name}`,
    columns: [b.name, 'n', ...b.models.map((m) => m.model)],
    rows: groups.map((g, k) => [
      text(g),
      num(b.models[0]!.groups[k]!.n, integer),
      ...b.models.map((m) => ({ text: formatWithInterval(m.groups[k]!.accuracy, m.groups[k]!.interval), value: m.groups[k]!.accuracy })),
    ]),
  };
  const mcnemar: Table = {
    id: `${id}-mcnemar`,
    caption: `Every two models on the same faces of each ${b.name}: exact McNemar test (b: only the first right, c: only the second)`,
    columns: [b.name, 'models', 'b', 'c', 'p', 'p < 0.05'],
    rows: b.modelPairs.map((t) => [
      text(t.group),
      text(`${r.models[t.first]!.model} vs ${r.models[t.second]!.model}`),
      num(t.b, integer),
      num(t.c, integer),
      num(t.p, formatP),
      text(t.significant ? 'yes' : 'no'),
    ]),
  };
  const sig = b.modelPairs.filter((t) => t.significant);
  const words = sig.length
    ? `Models differ beyond chance (p < 0.05, not corrected for the ${groups.length} groups) in: ${sig.map((t) => `${t.group} (${t.b >= t.c ? r.models[t.first]!.model : r.models[t.second]!.model} ahead, ${formatP(t.p)})`).join('; ')}.`
    : `In no ${b.name} do two models differ beyond chance (exact McNemar, p ≥ 0.05).`;
  return [tableBlock(modelTable), tableBlock(mcnemar), paragraph(words)];
}

/** One model's view of a breakdown: its groups' accuracy, the pairs of groups, recall, predicted shares and confusion. */
async function modelBlocks(r: AuditResult, b: BreakdownAudit, m: ModelAudit, id: string): Promise<Block[]> {
  const mid = `${id}-${slug(m.model)}`;
  const blocks: Block[] = [
    paragraph(
      `${m.model}: accuracy ${accuracyText(m.overall)} over all ${integer(m.overall.n)} images of this breakdown, macro F1 ${ratio(m.overall.macroF1)}. ${m.summary}`,
    ),
    tableBlock(groupsTable(r, b, m, mid)),
  ];
  if (m.pairs.length > 0) blocks.push(tableBlock(pairsTable(b, m, mid)));
  blocks.push(await recallFigure(r, b, m, mid));
  blocks.push(tableBlock(predictedTable(r, b, m, mid)));
  blocks.push(tableBlock(confusionTable(r, b, m, mid)));
  return blocks;
}

function groupsTable(r: AuditResult, b: BreakdownAudit, m: ModelAudit, mid: string): Table {
  return {
    id: `${mid}-groups`,
    caption: `${m.model}: accuracy, macro F1 and recall per class by ${b.name} (recall: share of the class's faces recognised; — no face of the class)`,
    columns: [b.name, 'n', 'accuracy (95% CI)', 'macro F1', ...r.classes.map((c) => `${c} recall`), 'tested'],
    rows: m.groups.map((g) => [
      text(g.group),
      num(g.n, integer),
      { text: accuracyText(g), value: g.accuracy },
      num(g.macroF1, ratio),
      ...g.recall.map((x) => (x === null ? text('—') : num(x, ratio))),
      text(g.tested ? 'yes' : `no (< ${r.minGroup})`),
    ]),
  };
}

function pairsTable(b: BreakdownAudit, m: ModelAudit, mid: string): Table {
  return {
    id: `${mid}-pairs`,
    caption: `${m.model}: every two ${b.name} groups, difference in accuracy (Newcombe's 95 % interval), Fisher's exact p and Holm's adjustment`,
    columns: ['groups', 'difference (95% CI)', 'p', 'p Holm', 'significant at 5 %'],
    rows: m.pairs.map((p) => [
      text(`${p.first} − ${p.second}`),
      { text: formatDifference(p.difference), value: p.difference.difference },
      num(p.p, formatP),
      num(p.pHolm, formatP),
      text(p.significant ? 'yes' : 'no'),
    ]),
    // Hundreds of pairs (one group per person) are for the CSV; the sentence above names the significant ones.
    csvOnly: m.pairs.length > MAX_PAIRS_SHOWN,
  };
}

async function recallFigure(r: AuditResult, b: BreakdownAudit, m: ModelAudit, mid: string): Promise<Block> {
  const cells = m.groups.flatMap((g) =>
    r.classes.flatMap((c, k) => (g.recall[k] === null ? [] : [{ row: `${g.group} (${g.n})`, column: c, value: g.recall[k]! }])),
  );
  const caption = `${m.model}: recall per class by ${b.name}, the group's number of images in brackets (blank: no face of the class in the group)`;
  return {
    kind: 'figure',
    figure: {
      id: `${mid}-recall`,
      caption,
      svg: await renderSvg(
        shareHeatmapSpec(
          `${m.model}: recall by ${b.name}`,
          cells,
          m.groups.map((g) => `${g.group} (${g.n})`),
          r.classes,
          b.name,
          'true class',
          'recall',
        ),
      ),
    },
  };
}

function predictedTable(r: AuditResult, b: BreakdownAudit, m: ModelAudit, mid: string): Table {
  return {
    id: `${mid}-predicted`,
    caption: `${m.model}: share of each ${b.name}'s faces predicted as each class, against the true share (predicted / true); the class most over-called last`,
    columns: [b.name, ...r.classes, 'most over-called'],
    rows: m.groups.map((g) => {
      const over = mostOverPredicted(g, r.classes);
      return [
        text(g.group),
        ...r.classes.map((_, k) => ({
          text: g.n ? `${share(g.predictedCounts[k]! / g.n)} / ${share(g.trueCounts[k]! / g.n)}` : '—',
          value: g.n ? g.predictedCounts[k]! / g.n : undefined,
        })),
        text(over ? `${over.class} +${(over.excess * 100).toFixed(1)} pp` : '—'),
      ];
    }),
  };
}

function confusionTable(r: AuditResult, b: BreakdownAudit, m: ModelAudit, mid: string): Table {
  return {
    id: `${mid}-confusion`,
    caption: `${m.model}: confusion matrix of each ${b.name} (true × predicted counts)`,
    columns: [b.name, 'true', 'predicted', 'images'],
    rows: m.groups.flatMap((g) =>
      g.confusion.flatMap((row, t) => row.map((count, p) => [text(g.group), text(r.classes[t]!), text(r.classes[p]!), num(count, integer)])),
    ),
    csvOnly: true,
  };
}

function method(r: AuditResult): Section {
  return {
    id: 'method',
    title: 'How to read it',
    blocks: [
      paragraph(
        "Accuracy intervals are 95 % Wilson score intervals; differences between two groups carry Newcombe's hybrid score interval (1998, method 10). " +
          `Whether accuracy differs between groups at all is Pearson's chi-square test of homogeneity on the right/wrong counts of the groups with at least ${r.minGroup} images. ` +
          'Each two such groups are compared with Fisher\'s exact test, and the p-values are adjusted with Holm\'s step-down procedure over all pairs of the breakdown, so that the chance of any false "significant" stays at 5 %. ' +
          "Fisher's test is exact and so a little conservative: an interval that only just leaves out 0 can go with a p a little above 0.05. " +
          'Two models on the same faces of a group are compared with the exact McNemar test (not corrected for the number of groups). ' +
          'Every test treats images as independent: several photos of one person are not, so with few people per group the intervals are too narrow and the tests too ready to find a gap.',
      ),
    ],
  };
}

/**
 * Checked before any work: the folder may be written when it is absent or empty, or with
 * `force` (the audit's own files are then replaced; others are left). Never over a file.
 */
export async function checkAuditOutput(dir: string, force = false): Promise<void> {
  const stat = await fs.stat(dir).catch(() => null);
  if (!stat) return;
  if (!stat.isDirectory()) throw new VisemoError(`-o ${dir} is a file`, 'give a folder for the audit (it is created if absent)');
  const entries = (await fs.readdir(dir)).filter((e) => !e.startsWith('.'));
  if (entries.length === 0 || force) return;
  const earlier = entries.includes(AUDIT_FILE)
    ? 'an earlier audit'
    : `${entries.length} file${entries.length === 1 ? '' : 's'} (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''})`;
  throw new VisemoError(`-o ${dir} already holds ${earlier}`, 'choose another -o, or pass --force to replace the audit there');
}

export interface WrittenAudit extends WrittenReport {
  json: string;
  predictions: string;
}

/** audit.json, predictions.csv, report.html and report.md, figures/ and tables/ into `dir`, each atomically. */
export async function writeAuditReport(dir: string, result: AuditResult, predictions: AuditPrediction[]): Promise<WrittenAudit> {
  if (result.format !== AUDIT_FORMAT) throw new Error(`not an audit result: ${String(result.format)}`);
  const json = path.join(dir, AUDIT_FILE);
  await writeJsonAtomic(json, result);
  const file = path.join(dir, PREDICTIONS_FILE);
  const table: Table = {
    id: 'predictions',
    caption: 'predictions',
    columns: ['image', 'true', ...result.breakdowns.map((b) => b.name), ...result.models.map((m) => m.model)],
    rows: predictions.map((p) => [text(p.path), text(p.truth), ...p.groups.map((g) => text(g ?? '')), ...p.predicted.map(text)]),
  };
  await writeFileAtomic(file, tableToCsv(table));
  const written = await writeDocument(dir, await buildAuditDocument(result));
  return { ...written, json, predictions: file };
}
