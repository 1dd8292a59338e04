/**
 * EmotionRecognizer: the library API. Finds every face in an image, cuts it the way the model's
 * training faces were cut (its metadata's faceCut: a square around the detector's box with a
 * margin, or aligned by landmarks; monochrome, at the model's input size) and classifies all faces
 * of a call in one batch.
 */
import {
  inferenceBackends,
  useBackend,
  type BackendName,
  type InferenceBackendChoice,
  type InferenceBackendName,
  type ModelRuntime,
} from '../engine/backend.js';
import type { DecodedSet } from '../data/decoded-set.js';
import type { RunMetadata } from '../model/run-folder.js';
import { loadEmotionNet, type EmotionNet } from './emotion-net.js';
import { cropFace } from '../image/crop.js';
import { decodeGray, toRgb, type ImageInput } from '../image/decode.js';
import {
  detectorFor,
  disposeFaceApiNets,
  loadFaceDetector,
  type DetectorChoice,
  type DetectorModel,
  type FaceDetection,
  type FaceDetector,
} from '../image/face-detector.js';
import { cropPixels, roundBox, type FaceBox, type RawImage } from '../image/geometry.js';
import { rawPixels, sharpRaw } from '../image/raw.js';
import { alignFaces } from '../align/align-image.js';
import type { FaceCut } from '../data/face-cut.js';
import { buildResult, type RecognizedFace } from './result.js';
import { INFERENCE_DEFAULTS } from '../config/inference.js';

export interface RecognizerOptions {
  /** A bundled model name ('paper') or a run folder written by `visemo train`; default: the bundled default. */
  model?: string;
  /**
   * tfjs backend (default 'auto', as the CLI's: native oneDNN where its addon is built, else wasm;
   * a named one that cannot run is an error), or 'onnx': the emotion model on onnxruntime-node,
   * the face detector on wasm. `modelBackend` says which ran.
   */
  backend?: InferenceBackendChoice;
  /**
   * Face detector: 'auto' (default: SSD on images, where accuracy counts; BlazeFace on video
   * frames, about 8x cheaper, between which tracking follows the faces), or one of DETECTOR_MODELS for both.
   */
  detector?: DetectorChoice;
  /** Faces the detector scores below this are ignored (default INFERENCE_DEFAULTS.minFaceScore, 0.5). */
  minFaceScore?: number;
  /**
   * Cut faces as a square around the detector's box with this much room on each side (a fraction
   * of its longest side), whatever the model was trained on. Default: the model's own faceCut.
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
  /**
   * When no face is found in an image shaped like a face crop (looksLikeFaceCrop), classify the
   * whole image as one, marked cut: 'whole-image' (default true). Detectors miss faces that fill
   * the frame: tight portraits and 48×48 dataset crops.
   */
  wholeImageFallback?: boolean;
}

/**
 * A face crop, by its shape: near square (aspect 3:4 to 4:3) and small (its longer side at most
 * 256 pixels), as the datasets' crops (48×48 FER2013, 128×128 facial_expressions, 143×181 SFEW) are.
 * A photo with no face in it is rarely both.
 */
export const FACE_CROP_MAX_SIDE = 256;
export function looksLikeFaceCrop(width: number, height: number): boolean {
  const aspect = width / height;
  return Math.max(width, height) <= FACE_CROP_MAX_SIDE && aspect >= 0.75 && aspect <= 4 / 3;
}

/** The detector and minimum face score a recogniser loaded with `opts` uses: the given ones, else src/config/inference.ts's. */
export function detectorSettings(opts: Pick<RecognizerOptions, 'detector' | 'minFaceScore'>): { model: DetectorChoice; minScore: number } {
  return { model: opts.detector ?? INFERENCE_DEFAULTS.detector, minScore: opts.minFaceScore ?? INFERENCE_DEFAULTS.minFaceScore };
}

export class EmotionRecognizer {
  private constructor(
    private readonly net: EmotionNet,
    /** The tfjs backend (the face detector's, and the model's unless it runs on onnxruntime). */
    readonly backend: BackendName,
    private readonly detectorOptions: { model: DetectorChoice; minScore: number },
    /** How faces are cut for the model: its metadata's, unless `margin` was given. */
    readonly faceCut: FaceCut,
    readonly tta: boolean,
  ) {}

  /** Loads the model (default: the bundled one) and activates the backend; the detector loads on first use. */
  static async load(opts: RecognizerOptions = {}): Promise<EmotionRecognizer> {
    if (opts.margin !== undefined && !(opts.margin > -0.5)) throw new RangeError(`margin must be above -0.5, got ${opts.margin}`);
    const { tfjs, runtime } = inferenceBackends(opts.backend ?? INFERENCE_DEFAULTS.backend);
    const backend = await useBackend(tfjs, { quiet: true });
    const net = await loadEmotionNet(opts.model, runtime);
    const faceCut: FaceCut = opts.margin !== undefined ? { method: 'box', margin: opts.margin } : net.metadata.faceCut;
    return new EmotionRecognizer(net, backend, detectorSettings(opts), faceCut, opts.tta === true);
  }

  /** The model's run metadata: classes, input size, channels, normalisation. */
  get metadata(): RunMetadata {
    return this.net.metadata;
  }

  /** Bundled model name, or the run folder's name. */
  get modelName(): string {
    return this.net.name;
  }

  get modelDir(): string {
    return this.net.dir;
  }

  /** What runs the emotion model: 'tfjs' (on `backend`) or 'onnx' (onnxruntime-node). */
  get runtime(): ModelRuntime {
    return this.net.runtime;
  }

  /** The backend that runs the emotion model, as outputs name it: the tfjs backend, or 'onnx'. */
  get modelBackend(): InferenceBackendName {
    return this.net.runtime === 'onnx' ? 'onnx' : this.backend;
  }

  /** The runtime in words: 'tfjs native', 'onnxruntime-node 1.30.0'. */
  get runtimeLabel(): string {
    return this.net.runtimeLabel;
  }

  /** The box margin faces are cut with (null when they are aligned by landmarks). */
  get margin(): number | null {
    return this.faceCut.method === 'box' ? this.faceCut.margin : null;
  }

  get classes(): string[] {
    return this.metadata.classes;
  }

  get inputSize(): number {
    return this.metadata.inputSize;
  }

  /** Time spent so far finding faces and classifying them, and the faces classified. */
  readonly stats = { detectMs: 0, classifyMs: 0, faces: 0 };

  private detectors = new Map<DetectorModel, Promise<FaceDetector>>();
  private windowDetectors = new Map<string, Promise<FaceDetector>>();

  /** The detector that finds faces in whole images or in video frames (see RecognizerOptions.detector). */
  detectorFor(on: 'image' | 'video'): DetectorModel {
    return detectorFor(this.detectorOptions.model, on);
  }

  private getDetector(on: 'image' | 'video'): Promise<FaceDetector> {
    const model = this.detectorFor(on);
    let detector = this.detectors.get(model);
    if (!detector) this.detectors.set(model, (detector = loadFaceDetector({ model, minScore: this.detectorOptions.minScore })));
    return detector;
  }

  /** Every face in a whole image or video frame, by the detector for it (most confident first). */
  async findFaces(rgb: RawImage, on: 'image' | 'video' = 'image'): Promise<FaceDetection[]> {
    const detector = await this.getDetector(on);
    const t0 = performance.now();
    try {
      return await detectScaled(detector, rgb);
    } finally {
      this.stats.detectMs += performance.now() - t0;
    }
  }

  /**
   * The faces inside `window` of a frame (image coordinates in and out), by the tiny face
   * detector at `inputSize`: on a window a little larger than a face it is several times cheaper
   * than any detector on the whole frame. Video tracking follows faces between full detections
   * with it.
   */
  async findFacesIn(rgb: RawImage, window: FaceBox, opts: { inputSize: number; minScore: number }): Promise<FaceDetection[]> {
    const key = `${opts.inputSize}/${opts.minScore}`;
    let detector = this.windowDetectors.get(key);
    if (!detector) this.windowDetectors.set(key, (detector = loadFaceDetector({ model: 'tiny', inputSize: opts.inputSize, minScore: opts.minScore })));
    const crop = cropPixels(rgb, window);
    const found = await (await detector).detect(crop);
    return found.map((f) => ({ score: f.score, box: { x: f.box.x + window.x, y: f.box.y + window.y, width: f.box.width, height: f.box.height } }));
  }

  /** Every face in one image, the detector's most confident first. */
  async recognize(input: ImageInput, opts: RecognizeOptions = {}): Promise<RecognizedFace[]> {
    return (await this.recognizeMany([input], opts))[0]!;
  }

  /** Faces of several images (or video frames), classified together in batches. */
  async recognizeMany(inputs: ImageInput[], opts: RecognizeOptions = {}): Promise<RecognizedFace[][]> {
    const crops: Uint8Array[] = [];
    const found: { image: number; box: FaceBox; faceScore: number; cut: RecognizedFace['cut'] }[] = [];
    const whole = async (i: number, cut: 'crop' | 'whole-image', size?: { width: number; height: number }) => {
      crops.push(await decodeGray(inputs[i]!, this.inputSize));
      const { width, height } = size ?? (await imageSize(inputs[i]!));
      // The detector found no face in a fallback image: its score says so (0); a given crop is taken as a sure face (1).
      found.push({ image: i, box: { x: 0, y: 0, width, height }, faceScore: cut === 'crop' ? 1 : 0, cut });
    };
    for (let i = 0; i < inputs.length; i++) {
      if (opts.detect === false) {
        await whole(i, 'crop');
        continue;
      }
      const rgb = await toRgb(inputs[i]!);
      const detector = await this.getDetector('image');
      const t0 = performance.now();
      const faces = await detectScaled(detector, rgb);
      this.stats.detectMs += performance.now() - t0;
      if (faces.length === 0 && opts.wholeImageFallback !== false && looksLikeFaceCrop(rgb.width, rgb.height)) {
        await whole(i, 'whole-image', rgb);
        continue;
      }
      crops.push(
        ...(await this.cutFaces(
          rgb,
          faces.map((f) => f.box),
        )),
      );
      for (const face of faces) found.push({ image: i, box: roundBox(face.box), faceScore: face.score, cut: 'detected' });
    }
    const t0 = performance.now();
    const probs = await this.classifyCrops(crops);
    this.stats.classifyMs += performance.now() - t0;
    this.stats.faces += crops.length;
    const out: RecognizedFace[][] = inputs.map(() => []);
    found.forEach((f, k) => out[f.image]!.push({ ...this.toFace(f.box, f.faceScore, probs[k]!), cut: f.cut }));
    return out;
  }

  /** The model-size monochrome faces in these detector boxes, cut as the model's training faces were. */
  async cutFaces(rgb: RawImage, boxes: FaceBox[]): Promise<Uint8Array[]> {
    return cutFacesAs(rgb, boxes, this.faceCut, this.inputSize);
  }

  /**
   * Class probabilities for monochrome size×size crops (one byte a pixel), normalised and
   * replicated to the model's channels exactly as in training, in batches.
   */
  async classifyCrops(crops: Uint8Array[]): Promise<Float32Array[]> {
    if (crops.length === 0) return [];
    const px = this.inputSize * this.inputSize;
    const pixels = new Uint8Array(crops.length * px);
    crops.forEach((c, i) => {
      if (c.length !== px) throw new Error(`crop ${i} has ${c.length} pixels, expected ${this.inputSize}x${this.inputSize}`);
      pixels.set(c, i * px);
    });
    const set: DecodedSet = { size: this.inputSize, pixels, labels: new Int32Array(crops.length), rels: [] };
    return this.net.classify(set, { batch: 64, tta: this.tta });
  }

  /** The result for one face: its box, detector score and the model's probabilities for it. */
  toFace(box: FaceBox, faceScore: number, p: Float32Array): RecognizedFace {
    return buildResult(this.classes, box, faceScore, p);
  }

  /**
   * Frees the model's weights; with `faceNets`, also the face detector's and landmark net's (shared
   * by every recogniser of the process, and loaded again by the next that needs them).
   */
  dispose(opts: { faceNets?: boolean } = {}): void {
    this.net.dispose();
    if (opts.faceNets) {
      this.detectors.clear();
      this.windowDetectors.clear();
      disposeFaceApiNets();
    }
  }
}

/** Monochrome size×size faces in these detector boxes, cut as `cut` says (the recogniser's, and audit's for each model). */
export async function cutFacesAs(rgb: RawImage, boxes: FaceBox[], cut: FaceCut, size: number): Promise<Uint8Array[]> {
  if (cut.method === 'landmarks')
    return (
      await alignFaces(
        boxes.map((box) => ({ image: rgb, box })),
        { size },
      )
    ).map((a) => a.pixels);
  return Promise.all(boxes.map(async (box) => (await cropFace(rgb, box, { margin: cut.margin, size, gray: true })).data));
}

/**
 * The detectors look at the picture at 512 pixels or less, so a large photo is shrunk first
 * (much less work, same faces); boxes are scaled back to the full picture, which crops use.
 */
export const DETECT_MAX_SIDE = 1024;

export async function detectScaled(detector: FaceDetector, rgb: RawImage): Promise<FaceDetection[]> {
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
