/**
 * BlazeFace (the 256×256 "back camera" variant that ships inside @vladmandic/human's package): a
 * single-shot face detector about eight times cheaper than face-api's SSD MobileNet, for video
 * frames between which tracking follows the faces. This file runs a loaded network on a frame
 * tensor and decodes its boxes; it has no Node imports, so the web page detects with this very
 * code (blazeface.ts loads the weights in Node). Box decoding follows human's
 * src/face/blazeface.ts (MIT).
 *
 * Its boxes differ from SSD's (square, a little larger); `SSD_LIKE` maps them onto the boxes SSD
 * draws around the same faces, so crops cut from either detector frame a face alike (the models'
 * faceCut margins were set on SSD's boxes). scripts/detector-calibration.ts measured the mapping.
 */
import { tf } from '../engine/tf.js';
import { applyCalibration, suppressDuplicates, type BoxCalibration } from './boxes.js';
import { clipBox, type FaceBox } from './geometry.js';
import { INFERENCE_DEFAULTS } from '../config/inference.js';

/** The network's input side. Its anchors: a 16×16 grid with 2 per cell, then 8×8 with 6. */
export const BLAZEFACE_INPUT = 256;

export interface BlazeFaceOptions {
  /** Detections below this score are dropped (default INFERENCE_DEFAULTS.minFaceScore, 0.5). */
  minScore?: number;
  /** Overlap (IoU) above which the weaker of two boxes is dropped (default 0.3). */
  iouThreshold?: number;
  /** At most this many faces (default 20). */
  maxFaces?: number;
  /** Maps the network's boxes onto another detector's (default SSD_LIKE; IDENTITY_CALIBRATION: raw boxes). */
  calibration?: BoxCalibration;
}

export interface BlazeFaceDetection {
  /** Frame coordinates, mapped by the calibration (SSD-like by default). */
  box: FaceBox;
  score: number;
}

/**
 * Centre shift (in box sides) and scale that turn BlazeFace's box of a face into SSD's: medians over
 * the 158 of 200 pasted SFEW train faces both found (scripts/detector-calibration.ts, seed 1).
 */
export const SSD_LIKE: Readonly<BoxCalibration> = Object.freeze({ dx: -0.032, dy: -0.038, sx: 0.8, sy: 1.02 });

export type BlazeFaceNet = Awaited<ReturnType<typeof tf.loadGraphModel>>;

let anchors: Float32Array | null = null;

/** Anchor centres in input pixels, in the order of the network's outputs (512 fine, then 384 coarse). */
export function blazeFaceAnchors(): Float32Array {
  if (anchors) return anchors;
  const out: number[] = [];
  for (const [stride, perCell] of [
    [16, 2],
    [32, 6],
  ] as const) {
    const cells = Math.ceil(BLAZEFACE_INPUT / stride);
    for (let y = 0; y < cells; y++) for (let x = 0; x < cells; x++) for (let n = 0; n < perCell; n++) out.push(stride * (x + 0.5), stride * (y + 0.5));
  }
  anchors = Float32Array.from(out);
  return anchors;
}

/**
 * The faces in a [height, width, 3] frame tensor (0–255), best score first, in frame
 * coordinates. The frame is padded at the right and bottom to a square, so faces keep their shape
 * when it is resized to 256.
 */
export async function runBlazeFace(net: BlazeFaceNet, frame: tf.Tensor3D, opts: BlazeFaceOptions = {}): Promise<BlazeFaceDetection[]> {
  const [height, width] = frame.shape;
  const minScore = opts.minScore ?? INFERENCE_DEFAULTS.minFaceScore;
  const calibration = opts.calibration ?? SSD_LIKE;
  const side = Math.max(width, height);
  const [scores, boxes] = tf.tidy(() => {
    const square = tf.pad(tf.cast(frame, 'float32'), [
      [0, side - height],
      [0, side - width],
      [0, 0],
    ]);
    const input = tf.sub(tf.div(tf.image.resizeBilinear(square, [BLAZEFACE_INPUT, BLAZEFACE_INPUT]), 127.5), 1).expandDims(0);
    // Four outputs: scores and boxes of the 512 fine anchors and of the 384 coarse ones.
    const res = (net.execute(input) as tf.Tensor[]).slice().sort((a, b) => a.size - b.size);
    const logits = tf.concat([res[1]!, res[0]!], 1).reshape([-1]);
    return [tf.sigmoid(logits), tf.concat([res[3]!, res[2]!], 1).reshape([-1, 16])];
  });
  try {
    const s = (await scores.data()) as Float32Array;
    const b = (await boxes.data()) as Float32Array;
    const a = blazeFaceAnchors();
    const f = side / BLAZEFACE_INPUT;
    const candidates: BlazeFaceDetection[] = [];
    for (let i = 0; i < s.length; i++) {
      if (s[i]! < minScore) continue;
      // Per anchor: centre offset, width, height (input pixels), then six keypoints (unused).
      const cx = (b[i * 16]! + a[i * 2]!) * f;
      const cy = (b[i * 16 + 1]! + a[i * 2 + 1]!) * f;
      const w = b[i * 16 + 2]! * f;
      const h = b[i * 16 + 3]! * f;
      candidates.push({ score: s[i]!, box: applyCalibration({ x: cx - w / 2, y: cy - h / 2, width: w, height: h }, calibration) });
    }
    return suppressDuplicates(candidates, opts.iouThreshold ?? 0.3)
      .slice(0, opts.maxFaces ?? 20)
      .map((d) => ({ score: d.score, box: clipBox(d.box, width, height) }))
      .filter((d) => d.box.width > 0 && d.box.height > 0);
  } finally {
    scores.dispose();
    boxes.dispose();
  }
}
