import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ALIGNED_TEMPLATE,
  FER_GEOMETRY,
  alignmentFromLandmarks,
  eyeCentres,
  fromAligned,
  landmarkProblem,
  mouthCentre,
  rollAngle,
  toAligned,
} from './geometry.js';
import type { Point } from './landmarks.js';

const close = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} is not within ${tol} of ${expected}`);

/**
 * A 68-point face in unit coordinates whose eye and mouth centres are exactly `eyes` and
 * `mouth`: six points around each eye, twenty around the mouth, the rest (jaw, brows, nose)
 * somewhere plausible. Then scaled by `side`, turned `deg` degrees clockwise and moved so the unit
 * square's centre lands on `center`.
 */
function face(opts: { deg?: number; side?: number; center?: Point; leftEye?: Point; rightEye?: Point; mouth?: Point } = {}): Point[] {
  const { deg = 0, side = 1, center = { x: 0.5, y: 0.5 } } = opts;
  const le = opts.leftEye ?? ALIGNED_TEMPLATE.leftEye;
  const re = opts.rightEye ?? ALIGNED_TEMPLATE.rightEye;
  const mo = opts.mouth ?? ALIGNED_TEMPLATE.mouth;
  const ring = (c: Point, n: number, rx: number, ry: number) =>
    Array.from({ length: n }, (_, i) => ({ x: c.x + rx * Math.cos((2 * Math.PI * i) / n), y: c.y + ry * Math.sin((2 * Math.PI * i) / n) }));
  const unit: Point[] = [
    ...Array.from({ length: 17 }, (_, i) => ({ x: 0.1 + (0.8 * i) / 16, y: 0.45 + 0.45 * Math.sin((Math.PI * i) / 16) })), // jaw 0–16
    ...Array.from({ length: 10 }, (_, i) => ({ x: 0.2 + (0.6 * i) / 9, y: 0.28 })), // brows 17–26
    ...Array.from({ length: 9 }, (_, i) => ({ x: 0.5 + (i < 4 ? 0 : (i - 6) * 0.03), y: 0.4 + 0.05 * Math.min(i, 4) })), // nose 27–35
    ...ring(le, 6, 0.05, 0.02), // 36–41
    ...ring(re, 6, 0.05, 0.02), // 42–47
    ...ring(mo, 12, 0.12, 0.05), // outer lips 48–59
    ...ring(mo, 8, 0.07, 0.02), // inner lips 60–67
  ];
  assert.equal(unit.length, 68);
  const r = (deg * Math.PI) / 180;
  return unit.map((p) => {
    const x = (p.x - 0.5) * side;
    const y = (p.y - 0.5) * side;
    return { x: center.x + Math.cos(r) * x - Math.sin(r) * y, y: center.y + Math.sin(r) * x + Math.cos(r) * y };
  });
}

test('eye and mouth centres are the means of points 36–41, 42–47 and 48–67', () => {
  const p = face({ side: 100, center: { x: 50, y: 50 } });
  const { left, right } = eyeCentres(p);
  close(left.x, 100 * ALIGNED_TEMPLATE.leftEye.x, 1e-9, 'left eye x');
  close(right.y, 100 * ALIGNED_TEMPLATE.rightEye.y, 1e-9, 'right eye y');
  close(mouthCentre(p).y, 100 * ALIGNED_TEMPLATE.mouth.y, 1e-9, 'mouth y');
  assert.throws(() => eyeCentres(p.slice(0, 67)), /68 landmarks/);
});

test("the template is FER2013's measured geometry", () => {
  // Pinned: the numbers measured on fer2013/train (see geometry.ts); changing them changes every aligned crop.
  assert.deepEqual(FER_GEOMETRY, { eyeY: 0.381, interOcular: 0.367, eyeToMouth: 0.409 });
  close(ALIGNED_TEMPLATE.rightEye.x - ALIGNED_TEMPLATE.leftEye.x, 0.367, 1e-12, 'template inter-ocular');
  close(ALIGNED_TEMPLATE.mouth.y, 0.79, 1e-12, 'template mouth height');
});

test('a level face with known numbers: eyes 20 px apart at y = 40', () => {
  const p = face({ leftEye: { x: 0, y: 0 }, rightEye: { x: 1, y: 0 }, mouth: { x: 0.5, y: 0.409 / 0.367 }, side: 20, center: { x: 40, y: 50 } });
  // The unit face above has its eyes at (0,0) and (1,0): scaled by 20 around (0.5,0.5) → (30,40) and (50,40).
  const { left, right } = eyeCentres(p);
  close(left.x, 30, 1e-9, 'left eye');
  close(right.x, 50, 1e-9, 'right eye');
  close(left.y, 40, 1e-9, 'eye height');
  const a = alignmentFromLandmarks(p);
  close(a.angle, 0, 1e-9, 'angle');
  // side = inter-ocular 20 / 0.367 = 54.496; the eyes sit 0.381·side below the top: centre y = 40 + (0.5 − 0.381)·54.496.
  close(a.side, 54.496, 1e-3, 'side');
  close(a.center.x, 40, 1e-9, 'centre x');
  close(a.center.y, 46.485, 1e-3, 'centre y');
});

test('a turned, scaled, moved face: the angle, and eyes level where the template has them', () => {
  for (const deg of [-40, -20, -3, 0, 12, 33]) {
    const center = { x: 120.5, y: 87.25 };
    const p = face({ deg, side: 64, center });
    close(rollAngle(p), deg, 1e-9, `roll at ${deg}°`);
    const a = alignmentFromLandmarks(p);
    close(a.angle, deg, 1e-9, `angle at ${deg}°`);
    close(a.side, 64, 1e-9, `side at ${deg}°`);
    close(a.center.x, center.x, 1e-9, `centre x at ${deg}°`);
    close(a.center.y, center.y, 1e-9, `centre y at ${deg}°`);
    const { left, right } = eyeCentres(p);
    const l = toAligned(a, left);
    const r = toAligned(a, right);
    close(l.y, r.y, 1e-9, `eye line level at ${deg}°`);
    close(l.y, FER_GEOMETRY.eyeY, 1e-9, `eye height at ${deg}°`);
    close(r.x - l.x, FER_GEOMETRY.interOcular, 1e-9, `inter-ocular at ${deg}°`);
    close(toAligned(a, mouthCentre(p)).y - l.y, FER_GEOMETRY.eyeToMouth, 1e-9, `eye to mouth at ${deg}°`);
  }
});

test("a face off the template is fitted in between: long face, side between the eyes' and the mouth's estimates", () => {
  // Mouth 1.4 inter-ocular distances below the eyes (template: 1.11).
  const p = face({ leftEye: { x: 0.3, y: 0.4 }, rightEye: { x: 0.7, y: 0.4 }, mouth: { x: 0.5, y: 0.96 }, side: 100, center: { x: 0, y: 0 } });
  const a = alignmentFromLandmarks(p);
  const fromEyes = 40 / FER_GEOMETRY.interOcular; // 109.0
  const fromMouth = 56 / FER_GEOMETRY.eyeToMouth; // 136.9
  assert.ok(a.side > fromEyes && a.side < fromMouth, `side ${a.side} not between ${fromEyes} and ${fromMouth}`);
  close(a.angle, 0, 1e-9, 'angle');
  close(a.center.x, 0, 1e-9, 'centred across');
});

test('toAligned and fromAligned invert each other', () => {
  const a = { angle: 27, center: { x: 10, y: -4 }, side: 33 };
  for (const [u, v] of [
    [0, 0],
    [1, 0],
    [0.3, 0.8],
    [0.5, 0.5],
  ] as const) {
    const q = toAligned(a, fromAligned(a, u, v));
    close(q.x, u, 1e-12, 'u');
    close(q.y, v, 1e-12, 'v');
  }
  // The square's top edge runs along the eye line: 27° clockwise.
  const tl = fromAligned(a, 0, 0);
  const tr = fromAligned(a, 1, 0);
  close((Math.atan2(tr.y - tl.y, tr.x - tl.x) * 180) / Math.PI, 27, 1e-9, 'top edge angle');
});

test('implausible landmarks are named: eyes too close, too much roll, mouth not below the eyes', () => {
  assert.equal(landmarkProblem(face({ side: 48, center: { x: 24, y: 24 } }), 48), null);
  assert.equal(landmarkProblem(face({ deg: 44, side: 48, center: { x: 24, y: 24 } }), 48), null);
  // Points collapsed to the middle, as the net gives on a blank image.
  assert.equal(landmarkProblem(face({ side: 10, center: { x: 24, y: 24 } }), 48)?.reason, 'eyes-too-close');
  assert.equal(landmarkProblem(face({ deg: 60, side: 48, center: { x: 24, y: 24 } }), 48)?.reason, 'angle-too-large');
  // Upside down: the roll is 180°.
  assert.equal(landmarkProblem(face({ deg: 180, side: 48, center: { x: 24, y: 24 } }), 48)?.reason, 'angle-too-large');
  const flat = face({ mouth: { x: 0.5, y: 0.45 }, side: 48, center: { x: 24, y: 24 } });
  const problem = landmarkProblem(flat, 48);
  assert.equal(problem?.reason, 'eyes-not-above-mouth');
  assert.match(problem.detail, /below the eye line/);
});
