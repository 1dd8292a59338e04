/** engine/cpu-features.ts: the flags of three kinds of CPU read from their /proc/cpuinfo text, and this machine's. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { EPYC_AVX2, SAPPHIRE_RAPIDS, XEON_AVX512 } from '../../test/fixtures/cpuinfo.js';
import { cpuFeatures, describeBf16, hasBf16, parseCpuinfo } from './cpu-features.js';

test('an AMD EPYC with AVX2 only: no AVX-512, no bf16, no AMX', () => {
  const f = parseCpuinfo(EPYC_AVX2);
  assert.equal(f.known, true);
  assert.equal(f.model, 'AMD EPYC');
  assert.deepEqual(f.flags, { avx2: true, avx512f: false, avx512_bf16: false, amx_bf16: false, amx_tile: false });
  assert.equal(hasBf16(f), false);
  assert.equal(describeBf16(f), 'this AMD EPYC has neither');
});

test('an AVX-512 Xeon without bf16: avx512f, but avx512_vnni and avx512bw are not bf16', () => {
  const f = parseCpuinfo(XEON_AVX512);
  assert.deepEqual(f.flags, { avx2: true, avx512f: true, avx512_bf16: false, amx_bf16: false, amx_tile: false });
  assert.equal(hasBf16(f), false);
  assert.equal(describeBf16(f), 'this Intel(R) Xeon(R) CPU @ 2.80GHz has neither');
});

test('a Sapphire Rapids Xeon: avx512_bf16 and AMX (whole flags, not prefixes: avx512_fp16 is not avx512f)', () => {
  const f = parseCpuinfo(SAPPHIRE_RAPIDS);
  assert.deepEqual(f.flags, { avx2: true, avx512f: true, avx512_bf16: true, amx_bf16: true, amx_tile: true });
  assert.equal(hasBf16(f), true);
  assert.match(describeBf16(f), /^this Intel\(R\) Xeon\(R\) Platinum 8481C CPU @ 2\.70GHz has avx512_bf16 and amx_bf16$/);
  // A flag matched as a whole word: a line with avx512_fp16 alone has no avx512f.
  assert.equal(parseCpuinfo('model name\t: X\nflags\t\t: avx512_fp16 amx_int8\n').flags.avx512f, false);
});

test('text without a flags line: unknown, every flag absent, and the description says why', () => {
  const f = parseCpuinfo('processor\t: 0\nmodel name\t: Some ARM board\n');
  assert.equal(f.known, false);
  assert.equal(hasBf16(f), false);
  assert.equal(describeBf16(f), "this Some ARM board's features are unknown: the CPU information has no flags line");
});

test("this machine's features: /proc/cpuinfo's on Linux, unknown elsewhere", () => {
  const f = cpuFeatures();
  if (process.platform !== 'linux') {
    assert.equal(f.known, false);
    assert.match(f.unknownWhy ?? '', /\/proc\/cpuinfo/);
    return;
  }
  assert.deepEqual(f.flags, parseCpuinfo(readFileSync('/proc/cpuinfo', 'utf8')).flags);
  assert.equal(f.known, true);
  assert.notEqual(f.model, '');
});
