import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScoreSmoother, TrackSmoothers } from './smoother.js';
import { labelFlips, summariseTrack } from './track-summary.js';

const close = (a: number, b: number, eps = 1e-5) => assert.ok(Math.abs(a - b) < eps, `${a} vs ${b}`);

test('smoothing follows a step with the time constant, at any frame rate', () => {
  for (const fps of [5, 25, 100]) {
    const s = new ScoreSmoother(0.4);
    s.update(0, [1, 0]);
    let out: Float32Array = new Float32Array();
    for (let i = 1; i <= Math.round(fps * 0.4); i++) out = s.update(i / fps, [0, 1]);
    // After one time constant, 1 − 1/e of the way to the new value, whatever the frame rate.
    close(out[1]!, 1 - Math.exp(-1), 1e-4);
    close(out[0]! + out[1]!, 1);
  }
});

test('0 turns smoothing off; a long gap forgets the past; time must not go back', () => {
  const off = new ScoreSmoother(0);
  off.update(0, [1, 0]);
  assert.deepEqual(
    [...off.update(0.04, [0.2, 0.8])].map((x) => Math.round(x * 10) / 10),
    [0.2, 0.8],
  );
  const s = new ScoreSmoother(0.5);
  s.update(0, [1, 0]);
  close(s.update(10, [0, 1])[1]!, 1, 1e-6);
  assert.throws(() => s.update(5, [0, 1]), /time order/);
  assert.throws(() => new ScoreSmoother(-1), /at least 0/);
});

test('per-track smoothers keep tracks apart, and smoothing reduces label flicker', () => {
  const classes = ['happiness', 'neutral'];
  const tracks = new TrackSmoothers(0.5);
  // Track 1 is mostly happy with every third frame a noisy neutral; track 2 is neutral throughout.
  const raw: { time: number; label: string }[] = [];
  const smooth: { time: number; label: string }[] = [];
  for (let i = 0; i < 75; i++) {
    const t = i / 25;
    const p = i % 3 === 2 ? [0.35, 0.65] : [0.7, 0.3];
    raw.push({ time: t, label: classes[p[0]! > p[1]! ? 0 : 1]! });
    const out = tracks.update(1, t, p);
    smooth.push({ time: t, label: classes[out[0]! > out[1]! ? 0 : 1]! });
    const other = tracks.update(2, t, [0.1, 0.9]);
    close(other[1]!, 0.9);
  }
  assert.ok(labelFlips(raw) >= 40, `raw flips ${labelFlips(raw)}`);
  assert.ok(labelFlips(smooth) <= 2, `smoothed flips ${labelFlips(smooth)}`);
  const summary = summariseTrack(1, smooth, classes, 1 / 25);
  assert.equal(summary.dominant, 'happiness');
  assert.ok(summary.shares.happiness! > 0.95);
});

test('a track summary: shares, dominant emotion, and segments that a gap ends', () => {
  const at = (time: number, label: string) => ({ time, label });
  const labels = [at(0, 'anger'), at(0.2, 'anger'), at(0.4, 'happiness'), at(0.6, 'happiness'), at(0.8, 'happiness'), at(2.0, 'happiness')];
  const s = summariseTrack(7, labels, ['anger', 'happiness', 'sadness'], 0.2);
  assert.deepEqual(s.shares, { anger: 2 / 6, happiness: 4 / 6, sadness: 0 });
  assert.equal(s.dominant, 'happiness');
  assert.equal(s.frames, 6);
  close(s.seconds, 1.2);
  assert.deepEqual(
    s.segments.map((g) => [g.emotion, Math.round(g.start * 10) / 10, Math.round(g.end * 10) / 10, g.frames]),
    [
      ['anger', 0, 0.4, 2],
      ['happiness', 0.4, 1.0, 3],
      ['happiness', 2.0, 2.2, 1],
    ],
  );
  assert.throws(() => summariseTrack(1, [], ['a'], 0.2), /no frames/);
});
