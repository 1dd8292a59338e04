/**
 * Box arithmetic of detection and tracking: overlap, centre distance, the search window around a face, and the
 * calibration that maps the window detector's boxes onto the full-frame detector's. Pure
 * functions without Node imports, so the web page follows faces with this very code.
 */
import type { FaceBox } from './geometry.js';

export function iou(a: FaceBox, b: FaceBox): number {
  const w = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const h = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const inter = w * h;
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

export function centre(b: FaceBox): { x: number; y: number } {
  return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
}

/** Distance between the centres, in units of the larger box's longest side. */
export function centreDistance(a: FaceBox, b: FaceBox): number {
  const ca = centre(a);
  const cb = centre(b);
  const side = Math.max(a.width, a.height, b.width, b.height, 1e-9);
  return Math.hypot(ca.x - cb.x, ca.y - cb.y) / side;
}

/** `b` moved by (dx, dy). */
export function shiftBox(b: FaceBox, dx: number, dy: number): FaceBox {
  return { x: b.x + dx, y: b.y + dy, width: b.width, height: b.height };
}

/**
 * The square, `scale` times the box's longest side, centred on it and pushed inside the
 * width×height frame (shrunk only when the frame is smaller): where a face is looked for next.
 * Whole pixels, so it can be cut from the frame as is.
 */
export function searchWindow(b: FaceBox, scale: number, width: number, height: number): FaceBox {
  const side = Math.max(1, Math.min(Math.round(Math.max(b.width, b.height) * scale), width, height));
  const c = centre(b);
  const x = Math.round(Math.min(Math.max(c.x - side / 2, 0), width - side));
  const y = Math.round(Math.min(Math.max(c.y - side / 2, 0), height - side));
  return { x, y, width: side, height: side };
}

/**
 * How one detector's box of a face relates to another's of the same face in the same frame:
 * centre offset and size ratio, relative to the first box. The window detector (the tiny one)
 * draws looser boxes than SSD, and the emotion model's crop margin was measured on SSD's.
 */
export interface BoxCalibration {
  dx: number;
  dy: number;
  sx: number;
  sy: number;
}

export const IDENTITY_CALIBRATION: Readonly<BoxCalibration> = Object.freeze({ dx: 0, dy: 0, sx: 1, sy: 1 });

/** The calibration that turns `from` into `to`. */
export function calibrationBetween(from: FaceBox, to: FaceBox): BoxCalibration {
  const cf = centre(from);
  const ct = centre(to);
  return { dx: (ct.x - cf.x) / from.width, dy: (ct.y - cf.y) / from.height, sx: to.width / from.width, sy: to.height / from.height };
}

/** `b` as the other detector would have drawn it. */
export function applyCalibration(b: FaceBox, cal: BoxCalibration): FaceBox {
  const c = centre(b);
  const width = b.width * cal.sx;
  const height = b.height * cal.sy;
  return { x: c.x + cal.dx * b.width - width / 2, y: c.y + cal.dy * b.height - height / 2, width, height };
}

/** Boxes (with scores) with near-duplicates removed, the best-scored kept (greedy non-maximum suppression). */
export function suppressDuplicates<T extends { box: FaceBox; score: number }>(items: T[], maxIou = 0.5): T[] {
  const kept: T[] = [];
  for (const d of [...items].sort((a, b) => b.score - a.score)) if (kept.every((k) => iou(k.box, d.box) <= maxIou)) kept.push(d);
  return kept;
}
