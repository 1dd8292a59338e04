import { test } from 'node:test';
import assert from 'node:assert/strict';
import { centreSquare, clipBox, largestFace, roundBox, squareAround } from './geometry.js';

test('squareAround centres a square with the margin', () => {
  assert.deepEqual(squareAround({ x: 100, y: 50, width: 40, height: 60 }, 0.25), { x: 75, y: 35, width: 90, height: 90 });
});

test('clipBox keeps the part of a box inside the image', () => {
  assert.deepEqual(clipBox({ x: -10, y: 5, width: 30, height: 100 }, 64, 48), { x: 0, y: 5, width: 20, height: 43 });
  assert.deepEqual(clipBox({ x: 70, y: 0, width: 10, height: 10 }, 64, 48).width, -6);
});

test('centreSquare, roundBox and largestFace (of anything with a box)', () => {
  assert.deepEqual(centreSquare(7, 4), { x: 1, y: 0, width: 4, height: 4 });
  assert.deepEqual(roundBox({ x: 1.4, y: 2.6, width: 9.5, height: 3.2 }), { x: 1, y: 3, width: 10, height: 3 });
  const faces = [
    { box: { x: 0, y: 0, width: 10, height: 10 }, id: 'a' },
    { box: { x: 5, y: 5, width: 20, height: 8 }, id: 'b' },
  ];
  assert.equal(largestFace(faces)?.id, 'b');
  assert.equal(largestFace([]), undefined);
});
