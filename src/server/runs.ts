/**
 * The training runs and experiment reports under the runs folder (./runs by default), as the
 * page lists them: a run folder has metadata.json; an experiment folder has report.html.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readHistory, readRunMetadata } from '../model/run-folder.js';
import { metricsFile, RUN_FILES } from '../model/run-files.js';
import { readJsonIfPresent } from '../util/atomic.js';
import type { RunEntry } from './api-types.js';

export type { RunEntry };

const urlOf = (id: string, file: string) => `/runs/${id.split('/').map(encodeURIComponent).join('/')}/${file}`;

async function describe(root: string, id: string): Promise<RunEntry | null> {
  const dir = path.join(root, ...id.split('/'));
  const names = new Set(await fs.readdir(dir).catch(() => [] as string[]));
  const isRun = names.has(RUN_FILES.metadata);
  if (!isRun && !names.has('report.html')) return null;
  const entry: RunEntry = {
    id,
    kind: isRun ? 'run' : 'experiment',
    report: names.has('report.html') ? urlOf(id, 'report.html') : null,
    model: isRun && names.has(RUN_FILES.model) && names.has(RUN_FILES.weights) ? urlOf(id, '') : null,
  };
  if (isRun) {
    // A run still training (or damaged) is listed with what can be read of it.
    const meta = await readRunMetadata(dir).catch(() => undefined);
    const history = await readHistory(dir).catch(() => undefined);
    const test = await readJsonIfPresent<{ accuracy?: number }>(path.join(dir, metricsFile('test')));
    if (meta) Object.assign(entry, { classes: meta.classes, inputSize: meta.inputSize, createdAt: meta.createdAt });
    const best = history?.epochs.find((e) => e.epoch === history.bestEpoch);
    if (best) entry.bestValAcc = best.valAcc;
    if (typeof test?.accuracy === 'number') entry.testAcc = test.accuracy;
  }
  return entry;
}

/** Runs and experiments up to two folders deep (an experiment keeps its runs inside), newest first. */
export async function listRuns(root: string): Promise<RunEntry[]> {
  const out: RunEntry[] = [];
  const subdirs = async (dir: string) =>
    (await fs.readdir(dir, { withFileTypes: true }).catch(() => []))
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  for (const a of await subdirs(root)) {
    const top = await describe(root, a);
    if (top) out.push(top);
    if (top?.kind === 'run') continue;
    for (const b of await subdirs(path.join(root, a))) {
      const inner = await describe(root, `${a}/${b}`);
      if (inner) out.push(inner);
    }
  }
  return out.sort((x, y) => (y.createdAt ?? '').localeCompare(x.createdAt ?? '') || x.id.localeCompare(y.id));
}
