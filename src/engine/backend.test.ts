import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useBackend } from './backend.js';
import { tf } from './tf.js';
import { VisemoError } from '../util/errors.js';

test("'auto' falls back to wasm with one line saying why when native is unavailable", async () => {
  process.env.VISEMO_NATIVE = '0';
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    assert.equal(await useBackend('auto'), 'wasm');
    assert.equal(await useBackend('auto'), 'wasm');
  } finally {
    process.stderr.write = write;
    delete process.env.VISEMO_NATIVE;
  }
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(lines.length, 1, lines.join(''));
  assert.match(lines[0]!, /native backend disabled by VISEMO_NATIVE=0; using the next available backend/);
});

test('a named backend that cannot run is an error with the reason, not a fallback', async () => {
  process.env.VISEMO_NATIVE = '0';
  try {
    await assert.rejects(useBackend('native'), (err: unknown) => {
      assert.ok(err instanceof VisemoError);
      assert.match(err.message, /^the native backend cannot run: native backend disabled by VISEMO_NATIVE=0$/);
      assert.match(err.hint ?? '', /visemo doctor/);
      return true;
    });
  } finally {
    delete process.env.VISEMO_NATIVE;
  }
});
