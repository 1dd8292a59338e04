/**
 * Defaults of inference and of the local server: the face detector, the minimum face score, the
 * face margin, the compute backend, and the server's port and limits. One typed set (as
 * @vladmandic/human keeps one config), read by the CLI's options and help, the library
 * (EmotionRecognizer, the detectors), the server and the web page. No imports, so the page
 * bundles it and every folder may read it.
 */

export interface InferenceConfig {
  /** Face detector: 'auto' (SSD on images, BlazeFace on video frames), or 'ssd', 'tiny', 'blazeface' for both. */
  detector: 'auto' | 'ssd' | 'tiny' | 'blazeface';
  /** Faces the detector scores below this are dropped (0–1). */
  minFaceScore: number;
  /**
   * Room around a face box on each side, as a fraction of its longest side, when nothing else says
   * (cropFace's default; a model's own faceCut, recorded in its metadata, takes precedence).
   */
  faceMargin: number;
  /** Compute backend: 'auto' takes native oneDNN where its addon is built, else wasm. */
  backend: 'auto';
  /** Faces face-api's SSD detector gives at most per picture (the page's). */
  maxFaces: number;
}

export const INFERENCE_DEFAULTS: Readonly<InferenceConfig> = Object.freeze({
  detector: 'auto',
  minFaceScore: 0.5,
  faceMargin: 0.2,
  backend: 'auto',
  maxFaces: 20,
});

export interface ServerConfig {
  /** Port `visemo serve` listens on (0 picks a free one). */
  port: number;
  /** Largest accepted upload, bytes. */
  maxUploadBytes: number;
  /** Pixels decoded at once at most over all requests: two images at the 64-megapixel limit, about 0.4 GB of decoded RGB with sharp's own buffers on top. */
  pixelBudget: number;
  /** Recognition requests in progress at most; beyond it requests are answered 503 at once. */
  maxPending: number;
  /** Recognition workers by default at most: each holds a tfjs engine, the detector and its models (about 200 MB once loaded); one per core up to this. */
  maxDefaultWorkers: number;
  /** A request body must arrive within this many milliseconds; a stalled upload is answered 408. */
  bodyTimeoutMs: number;
}

export const SERVER_DEFAULTS: Readonly<ServerConfig> = Object.freeze({
  port: 8321,
  maxUploadBytes: 20 * 1024 * 1024,
  pixelBudget: 128_000_000,
  maxPending: 32,
  maxDefaultWorkers: 8,
  bodyTimeoutMs: 30_000,
});
