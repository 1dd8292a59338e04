/**
 * The training runs and experiment reports under the runs folder (./runs by default), as the
 * page lists them: a run folder has metadata.json; an experiment folder has report.html.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { History, RunMetadata } from '../training/types.js';
import type { RunEntry } from './api-types.js';

export type { RunEntry };

async function readJsonOrNull<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

const urlOf = (id: string, file: string) => `/runs/${id.split('/').map(encodeURIComponent).join('/')}/${file}`;

async function describe(root: string, id: string): Promise<RunEntry | null> {
  const dir = path.join(root, ...id.split('/'));
  const names = new Set(await fs.readdir(dir).catch(() => [] as string[]));
  const isRun = names.has('metadata.json');
  if (!isRun && !names.has('report.html')) return null;
  const entry: RunEntry = {
    id,
    kind: isRun ? 'run' : 'experiment',
    report: names.has('report.html') ? urlOf(id, 'report.html') : null,
    model: isRun && names.has('model.json') && names.has('weights.bin') ? urlOf(id, '') : null,
  };
  if (isRun) {
    const meta = await readJsonOrNull<RunMetadata>(path.join(dir, 'metadata.json'));
    const history = await readJsonOrNull<History>(path.join(dir, 'history.json'));
    const test = await readJsonOrNull<{ accuracy?: number }>(path.join(dir, 'metrics-test.json'));
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
    (await fs.readdir(dir, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort();
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
