import { test } from 'node:test';
import assert from 'node:assert/strict';
import { largestFace } from '../image/geometry.js';
import { mainTrackFaces, type FrameFaces } from './main-track.js';

const box = (x: number, y: number, side: number) => ({ x, y, width: side, height: side });

test('the subject is the track that fills the video, not the largest face of each frame', () => {
  // The subject drifts right through ten frames half a second apart and is missed in frames 6 and 7;
  // a larger passer-by is in frames 3 to 5 only.
  const frames: FrameFaces[] = Array.from({ length: 10 }, (_, i) => ({
    time: i * 0.5,
    faces: [
      ...(i === 6 || i === 7 ? [] : [{ box: box(100 + 8 * i, 120, 150), score: 0.9 }]),
      ...(i >= 3 && i <= 5 ? [{ box: box(420, 60, 220), score: 0.95 }] : []),
    ],
  }));
  const kept = mainTrackFaces(frames);
  assert.equal(kept.length, 10);
  kept.forEach((d, i) => {
    if (i === 6 || i === 7) assert.equal(d, null, `frame ${i}: the subject was not seen`);
    else assert.deepEqual(d?.box, box(100 + 8 * i, 120, 150), `frame ${i}`);
  });
  // The rule it replaces took the passer-by in three frames.
  assert.equal(frames.filter((f) => largestFace(f.faces)?.box.width === 220).length, 3);
});

test('frames far apart keep one track, and a video without faces keeps none', () => {
  // Two seconds between samples (prepare's frames per video spread over a long clip).
  const frames: FrameFaces[] = [0, 2, 4, 6].map((time, i) => ({
    time,
    faces: [{ box: box(200 + 20 * i, 100, 180), score: 0.8 }, ...(i === 0 ? [{ box: box(10, 10, 200), score: 0.9 }] : [])],
  }));
  assert.deepEqual(
    mainTrackFaces(frames).map((d) => d?.box.x),
    [200, 220, 240, 260],
  );
  assert.deepEqual(
    mainTrackFaces([
      { time: 0, faces: [] },
      { time: 1, faces: [] },
    ]),
    [null, null],
  );
  assert.deepEqual(mainTrackFaces([]), []);
});
