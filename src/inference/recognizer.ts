/**
 * EmotionRecognizer: the library API. Finds every face in an image, crops it the way `prepare`
 * crops training faces (a square around the detector's box with a margin, monochrome, at the
 * model's input size) and classifies all faces of a call in one batch.
 */
import { useBackend, type BackendChoice, type BackendName } from '../engine/backend.js';
import { tf } from '../engine/tf.js';
import type { DecodedSet } from '../data/decoded-set.js';
import { predictSet } from '../model/predict-set.js';
import type { RunMetadata } from '../model/run-folder.js';
import { loadEmotionModel } from '../model/model-io.js';
import { cropFace } from '../image/crop.js';
import { decodeGray, toRgb, type ImageInput } from '../image/decode.js';
import { loadFaceDetector, type DetectorModel, type FaceDetection, type FaceDetector } from '../image/face-detector.js';
import { roundBox, type FaceBox, type RawImage } from '../image/geometry.js';
import { rawPixels, sharpRaw } from '../image/raw.js';
import { cropMarginFor } from './crop-margin.js';
import type { RecognizedFace } from './result.js';
import { argmax } from '../util/argmax.js';

export interface RecognizerOptions {
  /** A bundled model name ('paper') or a run folder written by `visemo train`; default: the bundled default. */
  model?: string;
  /** tfjs backend (default 'wasm': the face detector needs every tfjs op, which wasm and cpu have). */
  backend?: BackendChoice;
  /** Face detector: 'ssd' (default, more accurate) or 'tiny' (faster). */
  detector?: DetectorModel;
  /** Faces the detector scores below this are ignored (default 0.5). */
  minFaceScore?: number;
  /**
   * Room around the detector's box on each side, as a fraction of its longest side. Default: the
   * margin the model's training faces were cut with (see cropMarginFor).
   */
  margin?: number;
  /** Test-time augmentation: average each face's scores with its mirror image's (twice the model work). */
  tta?: boolean;
}


export interface RecognizeOptions {
  /**
   * false: the image is already a face crop (like the training images): classify it whole,
   * preprocessed exactly as training. Default true: find faces first.
   */
  detect?: boolean;
}

export class EmotionRecognizer {
  private constructor(
    private readonly model: tf.LayersModel,
    /** The model's run metadata: classes, input size, channels, normalisation. */
    readonly metadata: RunMetadata,
    /** Bundled model name, or the run folder's name. */
    readonly modelName: string,
    readonly modelDir: string,
    readonly backend: BackendName,
    private readonly detectorOptions: { model: DetectorModel; minScore: number },
    readonly margin: number,
    readonly tta: boolean,
  ) {}

  /** Loads the model (default: the bundled one) and activates the backend; the detector loads on first use. */
  static async load(opts: RecognizerOptions = {}): Promise<EmotionRecognizer> {
    const backend = await useBackend(opts.backend ?? 'wasm', { quiet: true });
    const loaded = await loadEmotionModel(opts.model);
    const margin = opts.margin ?? (await cropMarginFor(loaded.metadata)).margin;
    if (!(margin > -0.5)) throw new RangeError(`margin must be above -0.5, got ${margin}`);
    return new EmotionRecognizer(loaded.model, loaded.metadata, loaded.name, loaded.dir, backend, { model: opts.detector ?? 'ssd', minScore: opts.minFaceScore ?? 0.5 }, margin, opts.tta === true);
  }

  get classes(): string[] {
    return this.metadata.classes;
  }

  get inputSize(): number {
    return this.metadata.inputSize;
  }

  /** Time spent so far finding faces and classifying them, and the faces classified. */
  readonly stats = { detectMs: 0, classifyMs: 0, faces: 0 };

  private detector: Promise<FaceDetector> | null = null;

  private getDetector(): Promise<FaceDetector> {
    this.detector ??= loadFaceDetector(this.detectorOptions);
    return this.detector;
  }

  /** Every face in one image, the detector's most confident first. */
  async recognize(input: ImageInput, opts: RecognizeOptions = {}): Promise<RecognizedFace[]> {
    return (await this.recognizeMany([input], opts))[0]!;
  }

  /** Faces of several images (or video frames), classified together in batches. */
  async recognizeMany(inputs: ImageInput[], opts: RecognizeOptions = {}): Promise<RecognizedFace[][]> {
    const crops: Uint8Array[] = [];
    const found: { image: number; box: FaceBox; faceScore: number }[] = [];
    for (let i = 0; i < inputs.length; i++) {
      if (opts.detect === false) {
        crops.push(await decodeGray(inputs[i]!, this.inputSize));
        const { width, height } = await imageSize(inputs[i]!);
        found.push({ image: i, box: { x: 0, y: 0, width, height }, faceScore: 1 });
        continue;
      }
      const rgb = await toRgb(inputs[i]!);
      const detector = await this.getDetector();
      const t0 = performance.now();
      const faces = await detectScaled(detector, rgb);
      this.stats.detectMs += performance.now() - t0;
      for (const face of faces) {
        crops.push((await this.cropForModel(rgb, face.box)).data);
        found.push({ image: i, box: roundBox(face.box), faceScore: face.score });
      }
    }
    const t0 = performance.now();
    const probs = this.classifyCrops(crops);
    this.stats.classifyMs += performance.now() - t0;
    this.stats.faces += crops.length;
    const out: RecognizedFace[][] = inputs.map(() => []);
    found.forEach((f, k) => out[f.image]!.push(this.toFace(f.box, f.faceScore, probs[k]!)));
    return out;
  }

  /** The model-size monochrome crop of a face box, as `prepare` cuts training faces. */
  cropForModel(rgb: RawImage, box: FaceBox): Promise<RawImage> {
    return cropFace(rgb, box, { margin: this.margin, size: this.inputSize, gray: true });
  }

  /**
   * Class probabilities for monochrome size×size crops (one byte a pixel), normalised and
   * replicated to the model's channels exactly as in training, in batches.
   */
  classifyCrops(crops: Uint8Array[]): Float32Array[] {
    if (crops.length === 0) return [];
    const px = this.inputSize * this.inputSize;
    const pixels = new Uint8Array(crops.length * px);
    crops.forEach((c, i) => {
      if (c.length !== px) throw new Error(`crop ${i} has ${c.length} pixels, expected ${this.inputSize}x${this.inputSize}`);
      pixels.set(c, i * px);
    });
    const set: DecodedSet = { size: this.inputSize, pixels, labels: new Int32Array(crops.length), rels: [] };
    return predictSet(this.model, set, this.metadata.normalisation, this.metadata.channels, 64, this.tta);
  }

  private toFace(box: FaceBox, faceScore: number, p: Float32Array): RecognizedFace {
    const scores = Object.fromEntries(this.classes.map((c, i) => [c, p[i]!]));
    const best = argmax(p);
    return { box, faceScore, emotion: this.classes[best]!, confidence: p[best]!, scores };
  }

  /** Frees the model's weights. */
  dispose(): void {
    this.model.dispose();
  }
}

/**
 * The detectors look at the picture at 512 pixels or less, so a large photo is shrunk first
 * (much less work, same faces); boxes are scaled back to the full picture, which crops use.
 */
export const DETECT_MAX_SIDE = 1024;

async function detectScaled(detector: FaceDetector, rgb: RawImage): Promise<FaceDetection[]> {
  const scale = DETECT_MAX_SIDE / Math.max(rgb.width, rgb.height);
  if (scale >= 1) return detector.detect(rgb);
  const width = Math.max(1, Math.round(rgb.width * scale));
  const height = Math.max(1, Math.round(rgb.height * scale));
  const small = await rawPixels(sharpRaw(rgb).resize(width, height, { fit: 'fill' }).removeAlpha());
  const sx = rgb.width / width;
  const sy = rgb.height / height;
  const found = await detector.detect(small);
  return found.map((f) => ({ score: f.score, box: { x: f.box.x * sx, y: f.box.y * sy, width: f.box.width * sx, height: f.box.height * sy } }));
}

async function imageSize(input: ImageInput): Promise<{ width: number; height: number }> {
  const rgb = await toRgb(input);
  return { width: rgb.width, height: rgb.height };
}
