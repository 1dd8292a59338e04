import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEnterfacePath } from './sources.js';
import { chooseFrames } from './ffmpeg.js';

test("parseEnterfacePath reads the eNTERFACE'05 tree leniently", () => {
  assert.deepEqual(parseEnterfacePath('subject 1/anger/sentence 1/s1_an_1.avi'), { label: 'anger', subject: 's1' });
  assert.deepEqual(parseEnterfacePath('subject 6/happiness/s6_ha_3.avi'), { label: 'happiness', subject: 's6' });
  assert.deepEqual(parseEnterfacePath('Subject_12/sentence 2/s_12_su_2 .avi'), { label: 'surprise', subject: 's12' });
  assert.deepEqual(parseEnterfacePath('misc/s23_fe_4.avi'), { label: 'fear', subject: 's23' });
  assert.match((parseEnterfacePath('subject 3/extra/take2.avi') as { reason: string }).reason, /no emotion/);
  assert.match((parseEnterfacePath('anger/clip.avi') as { reason: string }).reason, /no 'subject N'/);
  assert.match((parseEnterfacePath('subject 2/anger/s2_di_1.avi') as { reason: string }).reason, /folder says anger, file code says disgust/);
});

test('chooseFrames takes the middle of equal shares after the skipped onset, or at a rate', () => {
  const info = { width: 720, height: 576, fps: 25, duration: 3, frameCount: 75 };
  assert.deepEqual(chooseFrames(info, { framesPerVideo: 4, skipStart: 1 }).map((p) => p.index), [31, 43, 56, 68]);
  assert.deepEqual(chooseFrames(info, { fps: 2, skipStart: 0, skipEnd: 1 }).map((p) => p.time), [0, 0.48, 1, 1.48]);
  // Ten steps of 0.2 s land on frame boundaries, not drifted ones (0.2 summed eight times is 1.5999…).
  assert.deepEqual(
    chooseFrames(info, { fps: 5, skipStart: 0, skipEnd: 0.8 }).map((p) => p.time),
    [0, 0.2, 0.4, 0.6, 0.8, 1, 1.2, 1.4, 1.6, 1.8, 2],
  );
  // Skips longer than the clip fall back to the whole clip.
  assert.equal(chooseFrames(info, { framesPerVideo: 3, skipStart: 5 }).length, 3);
});
