/**
 * One job, start to end: hash the video, return at once when its result is stored, else run
 * predict on it and store the result atomically. A video predict cannot read throws an Error
 * naming the file, which BullMQ retries up to the job's attempts and then keeps as a failed job.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import type { PredictReport } from '../inference/predict.js';
import { formatReport } from '../inference/predict-format.js';
import { firstLine } from '../util/errors.js';
import { hashFileHex } from '../util/hash.js';
import type { AnalysisSettings, VideoJobData, VideoJobResult } from './job.js';
import { readStoredResult, resultDirFor, storeResult, type JobRecord } from './result-store.js';

/** What computes results: the real one runs predict (analyser.ts); tests may pass their own. */
export interface Analyser {
  /** The model's name and a hash of its files and the settings: the result's folder name. */
  modelKey(settings: AnalysisSettings): Promise<string>;
  /** predict's report on the one video. */
  predict(file: string, settings: AnalysisSettings): Promise<PredictReport>;
}

export const workerName = (): string => `${os.hostname()}:${process.pid}`;

/** `worker` names who ran it in the result and job.json (default: this process). */
export async function processVideoJob(data: VideoJobData, root: string, analyser: Analyser, worker = workerName()): Promise<VideoJobResult> {
  const start = performance.now();
  const startedAt = new Date().toISOString();
  const { file, settings } = data;
  const stat = await fs.stat(file).catch((err: unknown) => {
    throw new Error(`${file}: cannot read it (${firstLine(err)})`);
  });
  if (!stat.isFile()) throw new Error(`${file}: not a file`);
  const sha256 = await hashFileHex(file);
  const modelKey = await analyser.modelKey(settings);
  const dir = resultDirFor(root, sha256, modelKey);
  const done = (stored: boolean, frames: number, faces: number, model: string, backend: string): VideoJobResult => ({
    file,
    sha256,
    resultDir: dir,
    stored,
    frames,
    faces,
    seconds: (performance.now() - start) / 1000,
    worker,
    model,
    backend,
  });

  const existing = await readStoredResult(dir);
  if (existing) return done(true, existing.frames, existing.faces, existing.settings.model, existing.backend);

  const report = await analyser.predict(file, settings);
  const result = report.results.find((r) => r.file === file) ?? report.results[0];
  if (!result) throw new Error(`${file}: predict gave no result`);
  if (result.kind === 'error') throw new Error(`${file}: ${result.reason}`);
  const frames = result.kind === 'video' ? result.timeline.length : 1;
  const record: JobRecord = {
    file,
    sha256,
    bytes: stat.size,
    modelKey,
    settings,
    worker,
    backend: report.model.backend,
    startedAt,
    finishedAt: new Date().toISOString(),
    seconds: (performance.now() - start) / 1000,
    frames,
    faces: report.stats.faces,
  };
  const written = await storeResult(dir, formatReport(report, 'json'), record);
  return done(!written, frames, report.stats.faces, report.model.name, report.model.backend);
}
