import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseFrames, isVideoFile, VIDEO_EXTENSIONS } from './video.js';

test('chooseFrames takes the middle of equal shares after the skipped onset, or at a rate', () => {
  const info = { width: 720, height: 576, fps: 25, duration: 3, frameCount: 75 };
  assert.deepEqual(
    chooseFrames(info, { framesPerVideo: 4, skipStart: 1 }).map((p) => p.index),
    [31, 43, 56, 68],
  );
  assert.deepEqual(
    chooseFrames(info, { fps: 2, skipStart: 0, skipEnd: 1 }).map((p) => p.time),
    [0, 0.48, 1, 1.48],
  );
  // Ten steps of 0.2 s land on frame boundaries, not drifted ones (0.2 summed eight times is 1.5999…).
  assert.deepEqual(
    chooseFrames(info, { fps: 5, skipStart: 0, skipEnd: 0.8 }).map((p) => p.time),
    [0, 0.2, 0.4, 0.6, 0.8, 1, 1.2, 1.4, 1.6, 1.8, 2],
  );
  // Skips longer than the clip fall back to the whole clip.
  assert.equal(chooseFrames(info, { framesPerVideo: 3, skipStart: 5 }).length, 3);
});

test('one list of video extensions: the union of what prepare and predict took before', () => {
  for (const ext of ['.avi', '.mp4', '.mov', '.mkv', '.webm', '.mpg', '.mpeg', '.m4v', '.wmv', '.flv', '.ogv', '.3gp'])
    assert.ok(VIDEO_EXTENSIONS.has(ext), ext);
  assert.ok(isVideoFile('clips/S1.WMV'));
  assert.ok(!isVideoFile('face.png'));
  assert.ok(!isVideoFile('notes.txt'));
});
