/**
 * Where a job's result lives: ROOT/<sha256 of the video>/<model key>/, holding result.json (exactly
 * what `visemo predict VIDEO --format json` prints) and job.json (where, when and from which file
 * it was computed). The folder appears whole, by one rename, so it exists exactly when the result
 * is complete: a retried, duplicated or re-added job finds it and computes nothing, and two
 * workers racing on one video leave one result.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readJsonIfPresent, writeDirAtomic } from '../util/atomic.js';
import type { AnalysisSettings } from './job.js';

export const RESULT_FILE = 'result.json';
export const JOB_FILE = 'job.json';

/** job.json: what the result was computed from, and by whom. */
export interface JobRecord {
  file: string;
  sha256: string;
  bytes: number;
  modelKey: string;
  settings: AnalysisSettings;
  worker: string;
  backend: string;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  frames: number;
  faces: number;
}

export function resultDirFor(root: string, sha256: string, modelKey: string): string {
  return path.join(root, sha256, modelKey);
}

/** The record of a stored result, or undefined when there is none yet. */
export async function readStoredResult(dir: string): Promise<JobRecord | undefined> {
  return readJsonIfPresent<JobRecord>(path.join(dir, JOB_FILE));
}

/** Stores a finished result; false when another job stored this one first (that one is kept). */
export async function storeResult(dir: string, resultJson: string, record: JobRecord): Promise<boolean> {
  await removeAbandonedTemps(path.dirname(dir));
  return writeDirAtomic(dir, { [RESULT_FILE]: resultJson, [JOB_FILE]: `${JSON.stringify(record, null, 2)}\n` });
}

/** Writing a result takes milliseconds: a temporary folder older than this belongs to a killed worker. */
const ABANDONED_MS = 10 * 60_000;

async function removeAbandonedTemps(dir: string): Promise<void> {
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith('.') || !name.endsWith('.tmp')) continue;
    const p = path.join(dir, name);
    const stat = await fs.stat(p).catch(() => null);
    if (stat && Date.now() - stat.mtimeMs > ABANDONED_MS) await fs.rm(p, { recursive: true, force: true });
  }
}
