/**
 * One POST /api/recognize job, the same in the server's own thread (--workers 0) and in a
 * recognition worker (recognize-worker.ts): the recogniser of a model folder the server has
 * already checked (one per folder, loaded on first use), run on the uploaded bytes.
 */
import { INFERENCE_DEFAULTS } from '../config/inference.js';
import type { EmotionRecognizer } from '../inference/recognizer.js';
import type { DetectorChoice } from '../image/face-detector.js';
import type { BackendChoice, InferenceBackendName } from '../engine/backend.js';
import type { RecognizedFace } from '../inference/result.js';
import { firstLine } from '../util/errors.js';

export interface RecognizeJob {
  /** A model folder the server resolved from a name it lists (never a path from the request). */
  dir: string;
  image: Uint8Array;
}

export type RecognizeOutcome =
  | { ok: true; body: { model: string; backend: InferenceBackendName; classes: string[]; faces: RecognizedFace[] } }
  | { ok: false; status: 400 | 500; message: string };

/** What the server hands each recognition worker (recognize-worker.ts). */
export interface RecognizeWorkerData {
  detector: DetectorChoice;
  backend: BackendChoice;
  /** Native compute threads of this worker (VISEMO_THREADS inside it). */
  threads: number;
}

/** The recognisers of one thread, one per model folder, all with the server's face detector and backend. */
export class RecognizerCache {
  private readonly byDir = new Map<string, Promise<EmotionRecognizer>>();

  constructor(
    private readonly detector: DetectorChoice = INFERENCE_DEFAULTS.detector,
    private readonly backend: BackendChoice = INFERENCE_DEFAULTS.backend,
  ) {}

  get(dir: string): Promise<EmotionRecognizer> {
    let r = this.byDir.get(dir);
    if (!r) {
      r = import('../inference/recognizer.js').then(({ EmotionRecognizer }) =>
        EmotionRecognizer.load({ model: dir, detector: this.detector, backend: this.backend }),
      );
      // A model that failed to load is tried again by the next request, not remembered broken.
      r.catch(() => this.byDir.delete(dir));
      this.byDir.set(dir, r);
    }
    return r;
  }
}

export async function runRecognizeJob(cache: RecognizerCache, job: RecognizeJob): Promise<RecognizeOutcome> {
  let recognizer: EmotionRecognizer;
  try {
    recognizer = await cache.get(job.dir);
  } catch (err) {
    return { ok: false, status: 500, message: `the model could not be loaded: ${firstLine(err)}` };
  }
  const bytes = Buffer.from(job.image.buffer, job.image.byteOffset, job.image.byteLength);
  try {
    const faces = await recognizer.recognize(bytes);
    return { ok: true, body: { model: recognizer.modelName, backend: recognizer.modelBackend, classes: recognizer.classes, faces } };
  } catch (err) {
    return { ok: false, status: 400, message: `not a readable image: ${firstLine(err)}` };
  }
}
