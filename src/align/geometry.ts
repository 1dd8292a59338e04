/**
 * Face geometry from 68 landmarks (iBUG 300-W order, as face-api's landmark net gives them):
 * eye and mouth centres, the roll of the eye line, and the square to cut so that an aligned face
 * sits where faces sit in FER2013's crops. Pure functions, in the source image's pixel
 * coordinates (x right, y down; pixel i spans [i, i + 1)).
 */

/** A point in image pixels. Declared here (no imports) so the web page aligns faces without Node's landmark code. */
export interface Point {
  x: number;
  y: number;
}

/**
 * Where eyes and mouth sit in FER2013's 48×48 crops, as fractions of the crop's width.
 *
 * Measured with face-api's faceLandmark68Net (the `full` net of landmarks.ts, each crop fed whole
 * and resized to 112 px with lanczos3) on 210 images of fer2013/train: 30 per class, every k-th
 * file of each class's sorted list. Medians, quartiles in parentheses:
 *   eye midpoint x        0.496 (0.475–0.518)   → 0.5 used: faces are centred (and mirrored by training's default augmentation)
 *   eye midpoint y        0.381 (0.354–0.398)
 *   inter-ocular / width  0.367 (0.330–0.396)
 *   eye-to-mouth / width  0.409 (0.375–0.448)  (eye midpoint to mouth centre, across the eye line)
 *   mouth centre x        0.508 (0.470–0.542)
 * FER2013's crops are not levelled: the eye line's roll has median |angle| 4.8°, 10 % beyond 21°.
 * (The eye midpoint is the mean of the two eye centres; an eye centre is the mean of its six
 * points, the mouth centre the mean of points 48–67.) The same 210 crops after alignFace, measured
 * again the same way: eye y 0.385, inter-ocular 0.366, eye-to-mouth 0.409, roll median 0.4°.
 */
export const FER_GEOMETRY = {
  eyeY: 0.381,
  interOcular: 0.367,
  eyeToMouth: 0.409,
} as const;

/** The three reference points of an aligned square, as fractions of its side. */
export const ALIGNED_TEMPLATE: { leftEye: Point; rightEye: Point; mouth: Point } = {
  leftEye: { x: 0.5 - FER_GEOMETRY.interOcular / 2, y: FER_GEOMETRY.eyeY },
  rightEye: { x: 0.5 + FER_GEOMETRY.interOcular / 2, y: FER_GEOMETRY.eyeY },
  mouth: { x: 0.5, y: FER_GEOMETRY.eyeY + FER_GEOMETRY.eyeToMouth },
};

/** Beyond this roll (degrees) the landmarks are taken as wrong (or the face as too tilted to trust). */
export const MAX_ROLL_DEGREES = 45;
/**
 * Smallest plausible inter-ocular distance, as a fraction of the square the landmark net saw.
 * FER2013 faces have 0.27 at the 10th percentile; where the net finds no face its points collapse
 * towards the centre: 0.04–0.10 on flat, gradient and striped test images, and under 0.11 on the
 * 5 of the 210 FER2013 crops above whose landmarks are wrong.
 */
export const MIN_INTER_OCULAR = 0.12;
/** Smallest plausible eye-to-mouth distance across the eye line, in inter-ocular distances (FER2013: median 1.12, 5th percentile 0.91). */
export const MIN_EYE_TO_MOUTH = 0.5;

/** The square to cut: centred at `center`, `side` pixels wide, its top edge along the eye line (turned `angle` degrees clockwise). */
export interface Alignment {
  angle: number;
  center: Point;
  side: number;
}

export type AlignFailure = 'eyes-too-close' | 'angle-too-large' | 'eyes-not-above-mouth';

export interface LandmarkProblem {
  reason: AlignFailure;
  detail: string;
}

function mean(points: Point[]): Point {
  let x = 0;
  let y = 0;
  for (const p of points) {
    x += p.x;
    y += p.y;
  }
  return { x: x / points.length, y: y / points.length };
}

function checkCount(points: Point[]): void {
  if (points.length !== 68) throw new Error(`expected 68 landmarks, got ${points.length}`);
}

/** Eye centres as seen in the image: `left` is points 36–41 (the person's right eye), `right` 42–47. */
export function eyeCentres(points: Point[]): { left: Point; right: Point } {
  checkCount(points);
  return { left: mean(points.slice(36, 42)), right: mean(points.slice(42, 48)) };
}

/** Mean of the 20 mouth points, 48–67. */
export function mouthCentre(points: Point[]): Point {
  checkCount(points);
  return mean(points.slice(48, 68));
}

/** Roll of the eye line in degrees, in (-180, 180]; positive when the face is turned clockwise in the image. */
export function rollAngle(points: Point[]): number {
  const { left, right } = eyeCentres(points);
  return (Math.atan2(right.y - left.y, right.x - left.x) * 180) / Math.PI;
}

function rotate(p: Point, radians: number): Point {
  const c = Math.cos(radians);
  const s = Math.sin(radians);
  return { x: c * p.x - s * p.y, y: s * p.x + c * p.y };
}

/**
 * The square whose cut-out puts this face's eyes and mouth where ALIGNED_TEMPLATE has them.
 * The rotation is fixed by the eye line (so the eyes come out level); side and position are the
 * least-squares fit of the two eye centres and the mouth centre to the template, which weighs the
 * eyes' spread against the eye-to-mouth distance instead of trusting either alone (one shrinks
 * when the head turns, the other when it nods).
 */
export function alignmentFromLandmarks(points: Point[]): Alignment {
  const { left, right } = eyeCentres(points);
  const mouth = mouthCentre(points);
  const angle = rollAngle(points);
  const theta = (angle * Math.PI) / 180;
  const origin = { x: (left.x + right.x) / 2, y: (left.y + right.y) / 2 };
  // The three points in the levelled frame (origin at the eye midpoint, x along the eye line).
  const q = [left, right, mouth].map((p) => rotate({ x: p.x - origin.x, y: p.y - origin.y }, -theta));
  const t = [ALIGNED_TEMPLATE.leftEye, ALIGNED_TEMPLATE.rightEye, ALIGNED_TEMPLATE.mouth];
  const qm = mean(q);
  const tm = mean(t);
  let num = 0;
  let den = 0;
  for (let i = 0; i < 3; i++) {
    num += (q[i]!.x - qm.x) * (t[i]!.x - tm.x) + (q[i]!.y - qm.y) * (t[i]!.y - tm.y);
    den += (t[i]!.x - tm.x) ** 2 + (t[i]!.y - tm.y) ** 2;
  }
  const side = num / den;
  // Square centre in the levelled frame: its top-left corner (qm − side·tm) plus half a side.
  const c = rotate({ x: qm.x + side * (0.5 - tm.x), y: qm.y + side * (0.5 - tm.y) }, theta);
  return { angle, side, center: { x: origin.x + c.x, y: origin.y + c.y } };
}

/** Where a source-image point lands in the aligned square, as fractions of its side (0–1 inside). */
export function toAligned(a: Alignment, p: Point): Point {
  const r = rotate({ x: p.x - a.center.x, y: p.y - a.center.y }, (-a.angle * Math.PI) / 180);
  return { x: r.x / a.side + 0.5, y: r.y / a.side + 0.5 };
}

/** The source-image point at fractions (u, v) of the aligned square's side: toAligned's inverse. */
export function fromAligned(a: Alignment, u: number, v: number): Point {
  const r = rotate({ x: (u - 0.5) * a.side, y: (v - 0.5) * a.side }, (a.angle * Math.PI) / 180);
  return { x: a.center.x + r.x, y: a.center.y + r.y };
}

/**
 * The affine map from pixel (x, y) of the side×side aligned square to the source point it samples,
 * pixel centres at integers in both: [ax, bx, cx, ay, by, cy] with source x = ax·x + bx·y + cx
 * (src/image/pixels.ts's warpAffine takes it; the page cuts aligned faces so).
 */
export function alignedPixelMap(a: Alignment, side: number): [number, number, number, number, number, number] {
  const p0 = fromAligned(a, 0.5 / side, 0.5 / side);
  const px = fromAligned(a, 1.5 / side, 0.5 / side);
  const py = fromAligned(a, 0.5 / side, 1.5 / side);
  return [px.x - p0.x, py.x - p0.x, p0.x - 0.5, px.y - p0.y, py.y - p0.y, p0.y - 0.5];
}

/**
 * Why these landmarks cannot be trusted, or null when they are plausible. `inputSide` is the side
 * of the square the landmark net saw, in the same pixels as the points.
 */
export function landmarkProblem(points: Point[], inputSide: number): LandmarkProblem | null {
  const { left, right } = eyeCentres(points);
  const mouth = mouthCentre(points);
  const iod = Math.hypot(right.x - left.x, right.y - left.y);
  if (!(iod >= MIN_INTER_OCULAR * inputSide)) {
    return {
      reason: 'eyes-too-close',
      detail: `inter-ocular distance ${iod.toFixed(1)} px is under ${MIN_INTER_OCULAR} of the ${inputSide.toFixed(0)} px face square`,
    };
  }
  const angle = rollAngle(points);
  if (Math.abs(angle) > MAX_ROLL_DEGREES) {
    return { reason: 'angle-too-large', detail: `eye line turned ${angle.toFixed(1)}°, more than ±${MAX_ROLL_DEGREES}°` };
  }
  // Distance from the eye line down to the mouth centre (positive below the eyes).
  const mid = { x: (left.x + right.x) / 2, y: (left.y + right.y) / 2 };
  const down = ((mouth.y - mid.y) * (right.x - left.x) - (mouth.x - mid.x) * (right.y - left.y)) / iod;
  if (!(down >= MIN_EYE_TO_MOUTH * iod)) {
    return { reason: 'eyes-not-above-mouth', detail: `mouth ${(down / iod).toFixed(2)} inter-ocular distances below the eye line, under ${MIN_EYE_TO_MOUTH}` };
  }
  return null;
}
