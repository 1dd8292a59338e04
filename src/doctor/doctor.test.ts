/** `visemo doctor`: its lines name every backend (with why one is missing), the CPU features and the programs, and it exits 0. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findOnPath } from './doctor.js';

const MAIN = fileURLToPath(new URL('../cli/main.ts', import.meta.url));

function doctor(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, 'doctor', ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('findOnPath finds executables only, in PATH order', () => {
  const a = mkdtempSync(path.join(os.tmpdir(), 'visemo-doctor-a-'));
  const b = mkdtempSync(path.join(os.tmpdir(), 'visemo-doctor-b-'));
  try {
    writeFileSync(path.join(a, 'tool'), 'not executable');
    writeFileSync(path.join(b, 'tool'), '#!/bin/sh\n');
    chmodSync(path.join(b, 'tool'), 0o755);
    assert.equal(findOnPath(['tool'], [a, b].join(path.delimiter)), path.join(b, 'tool'));
    assert.equal(findOnPath(['missing', 'tool'], b), path.join(b, 'tool'));
    assert.equal(findOnPath(['tool'], a), null);
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});

test('doctor reports each backend, why native is missing, the CPU features and the programs, and exits 0', () => {
  const r = doctor([], { VISEMO_NATIVE: '0' });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines[0]!, /^visemo \d+\.\d+\.\d+ \(/);
  assert.match(lines[1]!, /^node v\d+\.\d+\.\d+ \(\w+ \w+\), TensorFlow\.js \d+\.\d+\.\d+$/);
  assert.ok(lines.includes('  native not available: native backend disabled by VISEMO_NATIVE=0'), r.stdout);
  assert.ok(lines.includes('  wasm   available'), r.stdout);
  assert.ok(lines.includes('  --backend auto runs on wasm'), r.stdout);
  assert.ok(
    lines.some((l) => /^ {2}onnx {3}(available|not available: onnxruntime-node)/.test(l)),
    r.stdout,
  );
  for (const p of ['onnxruntime-node', 'bullmq'])
    assert.ok(
      lines.some((l) => l.startsWith(`  ${p}`)),
      `${p} is listed:\n${r.stdout}`,
    );
  assert.ok(
    lines.some((l) => l.startsWith('cpu: ')),
    r.stdout,
  );
  if (process.platform === 'linux')
    assert.ok(
      lines.some((l) => /^ {2}avx2 (yes|no), avx512f (yes|no), avx512_bf16 (yes|no), amx_bf16 (yes|no), amx_tile (yes|no)$/.test(l)),
      r.stdout,
    );
  for (const tool of ['ffmpeg', 'chromium', 'redis-server'])
    assert.ok(
      lines.some((l) => new RegExp(`^ {2}${tool} +(/|not found \\(for )`).test(l)),
      `${tool} is listed:\n${r.stdout}`,
    );
});

test('doctor --json: programs missing from PATH read null, with the backends as the text says', () => {
  // PATH is an empty folder (node runs by its full path): ffmpeg, chromium and redis-server are not there.
  const empty = mkdtempSync(path.join(os.tmpdir(), 'visemo-doctor-path-'));
  try {
    const r = doctor(['--json'], { VISEMO_NATIVE: '0', PATH: empty, VISEMO_CHROMIUM: '' });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { backends: Record<string, string | null>; tools: { name: string; path: string | null }[] };
    assert.match(report.backends.native!, /VISEMO_NATIVE=0/);
    assert.equal(report.backends.wasm, null);
    assert.deepEqual(
      report.tools.map((t) => [t.name, t.path]),
      [
        ['ffmpeg', null],
        ['chromium', null],
        ['redis-server', null],
      ],
    );
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});
