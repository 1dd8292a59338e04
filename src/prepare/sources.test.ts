import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseEnterfacePath, scanSource } from './sources.js';

test("parseEnterfacePath reads the eNTERFACE'05 tree leniently", () => {
  assert.deepEqual(parseEnterfacePath('subject 1/anger/sentence 1/s1_an_1.avi'), { label: 'anger', subject: 's1' });
  assert.deepEqual(parseEnterfacePath('subject 6/happiness/s6_ha_3.avi'), { label: 'happiness', subject: 's6' });
  assert.deepEqual(parseEnterfacePath('Subject_12/sentence 2/s_12_su_2 .avi'), { label: 'surprise', subject: 's12' });
  assert.deepEqual(parseEnterfacePath('misc/s23_fe_4.avi'), { label: 'fear', subject: 's23' });
  assert.match((parseEnterfacePath('subject 3/extra/take2.avi') as { reason: string }).reason, /no emotion/);
  assert.match((parseEnterfacePath('anger/clip.avi') as { reason: string }).reason, /no 'subject N'/);
  assert.match((parseEnterfacePath('subject 2/anger/s2_di_1.avi') as { reason: string }).reason, /folder says anger, file code says disgust/);
});

test('a videos source takes every extension predict reads as a video (.wmv, .flv, .ogv, .3gp too)', async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'visemo-sources-'));
  try {
    const names = ['a.avi', 'b.wmv', 'c.FLV', 'd.ogv', 'e.3gp'];
    await fs.mkdir(path.join(root, 'happy'));
    for (const n of names) await fs.writeFile(path.join(root, 'happy', n), '');
    const scan = await scanSource(root);
    assert.equal(scan.kind, 'videos');
    assert.deepEqual(
      scan.units.map((u) => u.id),
      names.map((n) => `happy/${n}`),
    );
    assert.deepEqual(scan.unparsed, []);
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});
