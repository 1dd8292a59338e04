import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FaceTracker, type Detection } from './tracker.js';
import { applyCalibration, calibrationBetween, iou, searchWindow, suppressDuplicates } from '../image/boxes.js';

const FPS = 25;
const box = (cx: number, cy: number, side = 100) => ({ x: cx - side / 2, y: cy - side / 2, width: side, height: side });
const det = (cx: number, cy: number, side = 100, score = 0.9): Detection => ({ box: box(cx, cy, side), score });

/** Runs frames through a tracker; each frame's faces carry the person they really are. Returns the ids per person per frame. */
function run(frames: { person: string; d: Detection }[][], tracker = new FaceTracker()): Map<string, number[]> {
  const ids = new Map<string, number[]>();
  frames.forEach((faces, i) => {
    const seen = tracker.update(
      i / FPS,
      faces.map((f) => f.d),
    );
    faces.forEach((f, k) => {
      const list = ids.get(f.person) ?? [];
      list.push(seen[k]!.id);
      ids.set(f.person, list);
    });
  });
  return ids;
}

const switches = (ids: number[]) => ids.slice(1).filter((id, i) => id !== ids[i]).length;

test('a face moving across the frame keeps one id', () => {
  const frames = Array.from({ length: 60 }, (_, i) => [{ person: 'a', d: det(60 + 8 * i, 200 + 2 * i) }]);
  const ids = run(frames).get('a')!;
  assert.equal(ids.length, 60);
  assert.deepEqual(new Set(ids), new Set([1]));
});

test('two people crossing each other keep their own ids (their speeds carry them through the overlap)', () => {
  // A walks right, B walks left, 40 px a frame at 25 fps, 30 px apart vertically: their boxes overlap for several frames.
  const frames = Array.from({ length: 40 }, (_, i) => [
    { person: 'a', d: det(100 + 20 * i, 240) },
    { person: 'b', d: det(880 - 20 * i, 270) },
  ]);
  // The overlap really happens: in the middle frames the boxes overlap a lot.
  assert.ok(iou(frames[19]![0]!.d.box, frames[19]![1]!.d.box) > 0.3);
  const ids = run(frames);
  assert.equal(switches(ids.get('a')!), 0, `A's ids: ${ids.get('a')}`);
  assert.equal(switches(ids.get('b')!), 0, `B's ids: ${ids.get('b')}`);
  assert.notEqual(ids.get('a')![0], ids.get('b')![0]);
  // The order of the detections in a frame does not matter.
  const swapped = run(frames.map((f, i) => (i % 2 ? [f[1]!, f[0]!] : f)));
  assert.equal(switches(swapped.get('a')!) + switches(swapped.get('b')!), 0);
});

test('a face that leaves and comes back within the timeout gets its id back; after it, a new one', () => {
  const tracker = new FaceTracker({ lostTimeout: 1.5 });
  const seenAt = (t: number, faces: Detection[]) => tracker.update(t, faces).map((x) => x.id);
  assert.deepEqual(seenAt(0, [det(300, 200)]), [1]);
  assert.deepEqual(seenAt(0.04, [det(305, 200)]), [1]);
  for (let t = 0.08; t < 1.0; t += 0.04) assert.deepEqual(seenAt(t, []), []);
  assert.equal(tracker.kept.length, 1, 'the lost track is kept');
  assert.equal(tracker.visible.length, 0, 'but not visible');
  // Back 1 s later, a little further along (more than the distance allowed a visible track).
  assert.deepEqual(seenAt(1.04, [det(400, 210)]), [1]);
  for (let t = 1.08; t < 3.0; t += 0.04) seenAt(t, []);
  assert.deepEqual(seenAt(3.0, [det(400, 210)]), [2], 'gone for longer than the timeout: a new id');
  assert.equal(tracker.created, 2);
});

test('several people keep their own ids; a newcomer gets a new one; spawn:false never creates tracks', () => {
  const tracker = new FaceTracker();
  const ids = (t: number, faces: Detection[], spawn = true) => tracker.update(t, faces, { spawn }).map((x) => x.id);
  assert.deepEqual(ids(0, [det(100, 100), det(400, 100)]), [1, 2]);
  assert.deepEqual(ids(0.04, [det(402, 101), det(101, 99)]), [2, 1]);
  assert.deepEqual(ids(0.08, [det(102, 100), det(700, 300), det(404, 100)]), [1, 3, 2]);
  assert.deepEqual(ids(0.12, [det(103, 100), det(1000, 600)], false), [1], 'an unclaimed face in a follow step is dropped');
  // A face of very different size at the same place is not the same person.
  assert.deepEqual(ids(0.16, [det(104, 100, 300)]), [4]);
  assert.throws(() => tracker.update(0.1, []), /time order/);
});

test('box helpers: windows stay inside the frame, calibration maps one detector onto another, duplicates go', () => {
  const w = searchWindow(box(20, 20, 100), 2, 640, 480);
  assert.deepEqual(w, { x: 0, y: 0, width: 200, height: 200 });
  assert.deepEqual(searchWindow(box(630, 470, 100), 2, 640, 480), { x: 440, y: 280, width: 200, height: 200 });
  assert.deepEqual(searchWindow(box(300, 200, 400), 2, 640, 480), { x: 60, y: 0, width: 480, height: 480 });
  const ssd = { x: 100, y: 120, width: 80, height: 100 };
  const tiny = { x: 90, y: 100, width: 110, height: 115 };
  const cal = calibrationBetween(tiny, ssd);
  const back = applyCalibration(tiny, cal);
  for (const k of ['x', 'y', 'width', 'height'] as const) assert.ok(Math.abs(back[k] - ssd[k]) < 1e-9);
  // The same calibration on the face moved 50 px gives the SSD box moved 50 px.
  const moved = applyCalibration({ ...tiny, x: tiny.x + 50 }, cal);
  assert.ok(Math.abs(moved.x - (ssd.x + 50)) < 1e-9);
  const kept = suppressDuplicates([
    { box: box(100, 100), score: 0.6 },
    { box: box(104, 102), score: 0.9 },
    { box: box(400, 100), score: 0.5 },
  ]);
  assert.deepEqual(
    kept.map((k) => k.score),
    [0.9, 0.5],
  );
});
