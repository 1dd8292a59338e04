/**
 * The pixel matching of scripts/fer-label-match.ts, as functions: a face's key (standardised 8×8
 * block means of its pixels' ranks, unchanged by a monotone remapping of gray levels), Spearman's
 * rank correlation of two faces, and the best match of a face among candidates with its verdict.
 */

export const SIDE = 48;
export const MIN_CORR = 0.97;
const BLOCK = 6; // 8×8 blocks of 6×6 pixels
const DIMS = (SIDE / BLOCK) ** 2;

export interface Face {
  name: string;
  label: string;
  pixels: Uint8Array;
  /** Standardised 8×8 block means of the pixels' ranks (blockKey). */
  key: Float32Array;
}

function standardise(v: ArrayLike<number>): Float32Array {
  let m = 0;
  for (let i = 0; i < v.length; i++) m += v[i]!;
  m /= v.length;
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += (v[i]! - m) ** 2;
  const sd = Math.sqrt(ss / v.length) || 1;
  return Float32Array.from({ length: v.length }, (_, i) => (v[i]! - m) / sd);
}

/** Each pixel's rank among the image's pixels (ties share their mean rank): a monotone change of gray levels leaves it unchanged. */
export function ranks(p: Uint8Array): Float32Array {
  const count = new Float64Array(256);
  for (const v of p) count[v]!++;
  const rankOf = new Float32Array(256);
  let below = 0;
  for (let v = 0; v < 256; v++) {
    rankOf[v] = below + (count[v]! - 1) / 2;
    below += count[v]!;
  }
  return Float32Array.from(p, (v) => rankOf[v]!);
}

export function blockKey(pixels: Uint8Array): Float32Array {
  const p = ranks(pixels);
  const n = SIDE / BLOCK;
  const b = new Float32Array(DIMS);
  for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) b[Math.floor(y / BLOCK) * n + Math.floor(x / BLOCK)]! += p[y * SIDE + x]!;
  return standardise(b);
}

/** Spearman's rank correlation of two images' pixels. */
export function correlation(a: Uint8Array, b: Uint8Array): number {
  const sa = standardise(ranks(a));
  const sb = standardise(ranks(b));
  let s = 0;
  for (let i = 0; i < sa.length; i++) s += sa[i]! * sb[i]!;
  return s / sa.length;
}

/** Squared distance of two keys, or Infinity once it passes `stopAt`. */
function distance(a: Float32Array, b: Float32Array, stopAt: number): number {
  let s = 0;
  for (let i = 0; i < DIMS; i++) {
    const d = a[i]! - b[i]!;
    s += d * d;
    if (s > stopAt) return Infinity;
  }
  return s;
}

export type Verdict = 'matched' | 'ambiguous' | 'none';

/** A face from 48×48 gray pixels, keyed for matching. */
export function faceOf(name: string, label: string, pixels: Uint8Array): Face {
  if (pixels.length !== SIDE * SIDE) throw new Error(`${name}: ${pixels.length} pixels, not ${SIDE}×${SIDE}`);
  return { name, label, pixels, key: blockKey(pixels) };
}

/**
 * The nearest candidate to `face` by key, and whether it is kept: 'none' when its pixels' rank
 * correlation is under MIN_CORR, 'ambiguous' when the runner-up's key distance is under twice the
 * best's (a duplicated face), else 'matched'.
 */
export function bestMatch(face: Face, candidates: readonly Face[]): { match: Face | null; corr: number; verdict: Verdict } {
  let best = Infinity;
  let second = Infinity;
  let match: Face | null = null;
  for (const c of candidates) {
    const d = distance(face.key, c.key, second);
    if (d < best) {
      second = best;
      best = d;
      match = c;
    } else if (d < second) second = d;
  }
  const corr = match ? correlation(face.pixels, match.pixels) : 0;
  const verdict: Verdict = !match || corr < MIN_CORR ? 'none' : best * 2 > second ? 'ambiguous' : 'matched';
  return { match, corr, verdict };
}
