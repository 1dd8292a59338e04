// buildResult, the one builder of a face's result (Node's recogniser, video analysis and the page).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildResult } from './result.js';

const classes = ['angry', 'happy', 'neutral'];
const box = { x: 1, y: 2, width: 30, height: 40 };

test('a result names each probability by class and takes the most probable (the first on ties)', () => {
  assert.deepEqual(buildResult(classes, box, 0.9, Float32Array.from([0.25, 0.5, 0.25])), {
    box,
    faceScore: 0.9,
    emotion: 'happy',
    confidence: 0.5,
    scores: { angry: 0.25, happy: 0.5, neutral: 0.25 },
  });
  assert.equal(buildResult(classes, box, 1, [0.4, 0.2, 0.4]).emotion, 'angry');
});

test('a tracked result adds its track, source and the label of its smoothed scores', () => {
  const face = buildResult(classes, box, 0.8, [0.1, 0.6, 0.3], { track: 3, source: 'follow', smoothed: [0.2, 0.3, 0.5] });
  assert.deepEqual(face, {
    box,
    faceScore: 0.8,
    emotion: 'happy',
    confidence: 0.6,
    scores: { angry: 0.1, happy: 0.6, neutral: 0.3 },
    track: 3,
    source: 'follow',
    smoothed: { angry: 0.2, happy: 0.3, neutral: 0.5 },
    label: 'neutral',
    labelConfidence: 0.5,
  });
});

test('probabilities that do not match the classes are refused', () => {
  assert.throws(() => buildResult(classes, box, 1, [0.5, 0.5]), /2 probabilities for 3 classes/);
  assert.throws(() => buildResult(classes, box, 1, [0.2, 0.3, 0.5], { track: 1, source: 'detect', smoothed: [1] }), /1 smoothed probabilities for 3 classes/);
});
