/**
 * The worker's Analyser: `runPredict`, the function `visemo predict` runs, on one video at a time,
 * so a job's result is what predict gives for the file. Loaded recognizers are kept per settings
 * and lent to one job at a time (each counts its own faces for the report's stats).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { BackendChoice } from '../engine/backend.js';
import { runPredict, type PredictReport } from '../inference/predict.js';
import { EmotionRecognizer } from '../inference/recognizer.js';
import { resolveModel } from '../model/run-folder.js';
import { RUN_FILES } from '../model/run-files.js';
import { hashHex } from '../util/hash.js';
import { settingsKey, type AnalysisSettings } from './job.js';
import type { Analyser } from './process-job.js';

/** The model's name (made safe for a folder name) and a hash of its files and the settings. */
export async function modelKeyOf(settings: AnalysisSettings): Promise<string> {
  const model = await resolveModel(settings.model);
  const files = await Promise.all([RUN_FILES.model, RUN_FILES.weights, RUN_FILES.metadata].map((f) => fs.readFile(path.join(model.dir, f))));
  const name = model.name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '') || 'model';
  return `${name}-${hashHex([...files, settingsKey(settings)], 16)}`;
}

export class PredictAnalyser implements Analyser {
  private readonly keys = new Map<string, Promise<string>>();
  private readonly idle = new Map<string, EmotionRecognizer[]>();
  private readonly all: EmotionRecognizer[] = [];

  constructor(private readonly opts: { backend: BackendChoice; batch: number }) {}

  modelKey(settings: AnalysisSettings): Promise<string> {
    const k = settingsKey(settings);
    let key = this.keys.get(k);
    if (!key) {
      key = modelKeyOf(settings);
      this.keys.set(k, key);
      key.catch(() => this.keys.delete(k)); // a missing model may appear later: ask again next time
    }
    return key;
  }

  async predict(file: string, settings: AnalysisSettings): Promise<PredictReport> {
    const k = settingsKey(settings);
    const recognizer = this.idle.get(k)?.pop() ?? (await this.load(settings));
    try {
      return await runPredict([file], { recognizer, fps: settings.fps, batch: this.opts.batch });
    } finally {
      this.idle.set(k, [...(this.idle.get(k) ?? []), recognizer]);
    }
  }

  private async load(s: AnalysisSettings): Promise<EmotionRecognizer> {
    const r = await EmotionRecognizer.load({
      model: s.model,
      backend: this.opts.backend,
      detector: s.detector,
      minFaceScore: s.minFaceScore,
      margin: s.margin ?? undefined,
      tta: s.tta,
    });
    this.all.push(r);
    return r;
  }

  dispose(): void {
    for (const r of this.all) r.dispose();
    this.all.length = 0;
    this.idle.clear();
  }
}
