import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FaceBox } from '../image/geometry.js';
import { centre } from '../image/boxes.js';
import { FaceFollower, type FrameDetectors } from './follower.js';

/** A scene of faces at known places over time, seen by two fake detectors: an exact full-frame one and a window one that draws looser, shifted boxes. */
function scene(faces: (t: number) => FaceBox[]) {
  const calls = { all: 0, window: 0 };
  const at = (t: number): FrameDetectors => ({
    async detectAll() {
      calls.all++;
      return faces(t).map((box) => ({ box, score: 0.95 }));
    },
    async detectIn(w) {
      calls.window++;
      return (
        faces(t)
          .filter((b) => {
            const c = centre(b);
            return c.x >= w.x && c.x < w.x + w.width && c.y >= w.y && c.y < w.y + w.height;
          })
          // The window detector's boxes: 30% larger and 10 px lower than the truth.
          .map((b) => ({ box: { x: b.x - 0.15 * b.width, y: b.y - 0.15 * b.height + 10, width: 1.3 * b.width, height: 1.3 * b.height }, score: 0.8 }))
      );
    },
  });
  return { calls, at };
}

test('the full detector runs every k-th frame; in between faces are followed in their windows, boxes mapped onto the full detector', async () => {
  const truth = (t: number): FaceBox[] => [
    { x: 50 + 200 * t, y: 100, width: 120, height: 140 },
    { x: 500 - 150 * t, y: 260, width: 100, height: 110 },
  ];
  const s = scene(truth);
  const follower = new FaceFollower(640, 480, { detectEvery: 5, followEvery: 1 });
  const ids = new Map<number, number>();
  for (let i = 0; i < 25; i++) {
    const t = i / 25;
    const faces = await follower.step(t, s.at(t));
    assert.equal(faces.length, 2, `frame ${i}`);
    assert.equal(faces[0]!.source, i % 5 === 0 ? 'detect' : 'follow');
    for (const f of faces) {
      // Which true face it is: the nearest.
      const k = truth(t)
        .map((b) => Math.hypot(centre(b).x - centre(f.box).x, centre(b).y - centre(f.box).y))
        .reduce((best, d, j, all) => (d < all[best]! ? j : best), 0);
      const b = truth(t)[k]!;
      for (const key of ['x', 'y', 'width', 'height'] as const)
        assert.ok(Math.abs(f.box[key] - b[key]) < 1e-6, `frame ${i} face ${k} ${key}: ${f.box[key]} vs ${b[key]}`);
      if (!ids.has(k)) ids.set(k, f.track);
      assert.equal(f.track, ids.get(k), `face ${k} changed id at frame ${i}`);
    }
  }
  assert.equal(s.calls.all, 5);
  // One window per face per frame in between, and one per face at each full detection (calibration).
  assert.equal(s.calls.window, 2 * 20 + 2 * 5);
});

test('with followEvery 2, faces are looked for on every other frame between detections and carried by their speed on the rest', async () => {
  // A face moving at constant speed: carrying it by its speed puts it exactly where it is.
  const truth = (t: number): FaceBox[] => [{ x: 50 + 200 * t, y: 100 + 50 * t, width: 120, height: 140 }];
  const s = scene(truth);
  const follower = new FaceFollower(640, 480, { detectEvery: 6, followEvery: 2 });
  const sources: string[] = [];
  for (let i = 0; i < 12; i++) {
    const t = i / 25;
    const [f] = await follower.step(t, s.at(t));
    sources.push(f!.source);
    // Exact once the speed is known (from the first window detection on frame 2); frame 1 stays where frame 0 was.
    const tolerance = i === 1 ? 10 : 1e-6;
    for (const key of ['x', 'y', 'width', 'height'] as const)
      assert.ok(Math.abs(f!.box[key] - truth(t)[0]![key]) <= tolerance, `frame ${i} ${key}: ${f!.box[key]}`);
    assert.equal(f!.track, 1);
  }
  assert.deepEqual(sources.slice(0, 6), ['detect', 'coast', 'follow', 'coast', 'follow', 'coast']);
  assert.equal(s.calls.all, 2);
  assert.equal(s.calls.window, 2 * 2 + 2 * 1);
});

test('a face that leaves is dropped at once, and one that appears waits for the next full detection', async () => {
  const present = (t: number) => t < 0.3 || t >= 0.6;
  const s = scene((t) => [
    ...(present(t) ? [{ x: 300, y: 200, width: 100, height: 100 }] : []),
    ...(t >= 0.1 ? [{ x: 50, y: 50, width: 90, height: 90 }] : []),
  ]);
  const follower = new FaceFollower(640, 480, { detectEvery: 5, lostTimeout: 1 });
  const seen: number[][] = [];
  for (let i = 0; i < 20; i++) seen.push((await follower.step(i / 20, s.at(i / 20))).map((f) => f.track).sort());
  assert.deepEqual(seen[0], [1]);
  assert.deepEqual(seen[2], [1], 'the newcomer at 0.1 s is not seen before the next full detection');
  assert.deepEqual(seen[5], [1, 2]);
  assert.deepEqual(seen[7], [2], 'gone at 0.35 s');
  assert.deepEqual(seen[12], [1, 2], 'back at 0.6 s with its old id, found by its window while lost');
  assert.throws(() => new FaceFollower(640, 480, { detectEvery: 0 }), /detectEvery/);
});

test('while no face is tracked, every frame gets the full detector', async () => {
  const s = scene((t) => (t >= 0.2 ? [{ x: 300, y: 200, width: 100, height: 100 }] : []));
  const follower = new FaceFollower(640, 480, { detectEvery: 10, followEvery: 1 });
  const sources: string[] = [];
  for (let i = 0; i < 8; i++) sources.push((await follower.step(i / 20, s.at(i / 20))).map((f) => f.source).join(''));
  assert.deepEqual(sources, ['', '', '', '', 'detect', 'follow', 'follow', 'follow']);
  assert.equal(s.calls.all, 5);
});

test('the full detector also runs on a time budget (slow frame rates) and right after a face is lost in its window', async () => {
  const s = scene((t) => (t < 1 ? [{ x: 300, y: 200, width: 100, height: 100 }] : []));
  const follower = new FaceFollower(640, 480, { detectEvery: 10, detectSeconds: 0.5, followEvery: 1 });
  const sources: string[] = [];
  for (let i = 0; i < 8; i++) sources.push((await follower.step(i * 0.25, s.at(i * 0.25))).map((f) => f.source).join('') || '-');
  // 4 fps: every second frame is 0.5 s after the last detection; from 1 s the face is gone.
  assert.deepEqual(sources, ['detect', 'follow', 'detect', 'follow', '-', '-', '-', '-']);
  // A face lost in its window gets the full detector on the very next frame.
  const moving = scene((t) => [{ x: t < 0.1 ? 100 : 500, y: 200, width: 100, height: 100 }]);
  const f2 = new FaceFollower(640, 480, { detectEvery: 10, followEvery: 1 });
  const got: string[] = [];
  for (let i = 0; i < 5; i++) got.push((await f2.step(i / 25, moving.at(i / 25))).map((f) => `${f.track}:${f.source}`).join('') || '-');
  assert.deepEqual(got, ['1:detect', '1:follow', '1:follow', '-', '2:detect']);
  // Full detections at 0, 0.5, 1.0 and 1.5 s: every 0.5 s although detectEvery is 10 frames.
  assert.equal(follower.detections, 4);
});
