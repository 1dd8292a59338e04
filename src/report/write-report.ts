/** Writes the report files of an experiment directory (or of an audit), every one atomically. */
import path from 'node:path';
import { exists, readJson, writeFileAtomic } from '../util/atomic.js';
import { VisemoError } from '../util/errors.js';
import { svgToPng } from './charts.js';
import { tableToCsv } from './csv.js';
import { buildReportDocument, type ReportDocument } from './document.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import type { ExperimentResults } from './types.js';

export const RESULTS_FILE = 'results.json';

export interface WrittenReport {
  html: string;
  markdown: string;
  figures: string[];
  tables: string[];
  document: ReportDocument;
}

/** Renders report.html, report.md, figures/*.svg|png and tables/*.csv into `dir`. */
export async function writeReport(dir: string, results: ExperimentResults): Promise<WrittenReport> {
  return writeDocument(dir, await buildReportDocument(results));
}

/** Any report document's files (the experiment's, the audit's): report.html, report.md, figures/, tables/. */
export async function writeDocument(dir: string, doc: ReportDocument): Promise<WrittenReport> {
  const figures: string[] = [];
  const tables: string[] = [];
  for (const section of doc.sections) {
    for (const b of section.blocks) {
      if (b.kind === 'figure') {
        const base = path.join(dir, 'figures', b.figure.id);
        await writeFileAtomic(`${base}.svg`, b.figure.svg);
        await writeFileAtomic(`${base}.png`, await svgToPng(b.figure.svg));
        figures.push(`${base}.svg`, `${base}.png`);
      } else if (b.kind === 'table') {
        const file = path.join(dir, 'tables', `${b.table.id}.csv`);
        await writeFileAtomic(file, tableToCsv(b.table));
        tables.push(file);
      }
    }
  }
  const html = path.join(dir, 'report.html');
  const markdown = path.join(dir, 'report.md');
  await writeFileAtomic(html, renderHtml(doc));
  await writeFileAtomic(markdown, renderMarkdown(doc));
  return { html, markdown, figures, tables, document: doc };
}

/** Reads DIR/results.json, saying what to do when it is missing or not an experiment's. */
export async function loadResults(dir: string): Promise<ExperimentResults> {
  const file = path.join(dir, RESULTS_FILE);
  if (!(await exists(file))) {
    throw new VisemoError(`${file} does not exist`, 'run `visemo experiment DATASET --out DIR` first, or give the directory an experiment wrote');
  }
  let results: ExperimentResults;
  try {
    results = await readJson<ExperimentResults>(file);
  } catch (err) {
    throw new VisemoError(`${file} is not valid JSON (${(err as Error).message})`, 're-run `visemo experiment` with the same --out to rewrite it');
  }
  if (results?.format !== 'visemo-experiment@1' || !Array.isArray(results.sizes)) {
    throw new VisemoError(
      `${file} is not a visemo experiment's results (format ${String(results?.format)})`,
      'give the directory `visemo experiment --out` wrote',
    );
  }
  if (results.sizes.length === 0) {
    throw new VisemoError(`${file} has no finished input size yet`, 'let `visemo experiment` finish at least one size (re-run it to resume)');
  }
  return results;
}
