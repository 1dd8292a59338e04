import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frameCutter } from './frame-cutter.js';

/** Five 2×1 RGB frames, every byte of frame n equal to n + 1, as one stream. */
const size = { width: 2, height: 1 };
const stream = Uint8Array.from({ length: 5 * 6 }, (_, i) => Math.floor(i / 6) + 1);

function cut(chunkSizes: number[], wanted: Map<number, string>) {
  const out: { pick: string; image: { data: Uint8Array; width: number; height: number; channels: number } }[] = [];
  const feed = frameCutter(size, wanted, (f) => out.push(f));
  let at = 0;
  // The chunks cover the stream, or all of it but a frame's tail when the stream breaks off.
  for (const n of chunkSizes) {
    feed(stream.subarray(at, at + n));
    at += n;
  }
  return out;
}

test('frameCutter hands on the wanted frames whole, by frame number, wherever the chunks end', () => {
  const wanted = new Map([
    [1, 'b'],
    [3, 'd'],
    [4, 'e'],
  ]);
  for (const chunks of [[30], [1, 7, 5, 11, 6], Array<number>(30).fill(1), [6, 6, 6, 6, 6], [4, 26]]) {
    const out = cut(chunks, wanted);
    assert.deepEqual(
      out.map((f) => f.pick),
      ['b', 'd', 'e'],
      String(chunks),
    );
    assert.deepEqual(
      out.map((f) => [...f.image.data]),
      [Array(6).fill(2), Array(6).fill(4), Array(6).fill(5)],
      String(chunks),
    );
    for (const f of out) assert.deepEqual([f.image.width, f.image.height, f.image.channels], [2, 1, 3]);
  }
});

test('frameCutter gives each frame its own buffer and hands on nothing of a frame cut short', () => {
  const out = cut(
    [29],
    new Map([
      [0, 'a'],
      [1, 'b'],
      [4, 'e'],
    ]),
  );
  assert.deepEqual(
    out.map((f) => f.pick),
    ['a', 'b'],
  );
  assert.notEqual(out[0]!.image.data.buffer, out[1]!.image.data.buffer);
  assert.deepEqual([...out[0]!.image.data], Array(6).fill(1));
});
