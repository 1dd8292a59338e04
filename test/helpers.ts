/** Shared helpers for tests: temporary folders, generated images, the CLI, and the shared datasets. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED = path.resolve(REPO, '..', 'shared', 'datasets');
export const CKPLUS = path.join(SHARED, 'ckplus48');
export const FER_TRAIN = path.join(SHARED, 'fer2013', 'train');
export const FER_TEST = path.join(SHARED, 'fer2013', 'publictest');
export const hasShared = existsSync(CKPLUS);

export function tempDir(prefix = 'visemo-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A w×h gray PNG whose pixels follow `f(x, y)` (0–255). */
export async function writeGrayPng(file: string, w: number, h: number, f: (x: number, y: number) => number): Promise<void> {
  const data = Buffer.alloc(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = Math.max(0, Math.min(255, Math.round(f(x, y))));
  await fs.mkdir(path.dirname(file), { recursive: true });
  await sharp(data, { raw: { width: w, height: h, channels: 1 } })
    .png()
    .toFile(file);
}

/** Links the first `n` images of each listed class of a shared dataset into a new folder (no copies). */
export async function linkSubset(src: string, classes: string[], n: number, dest = tempDir()): Promise<string> {
  for (const c of classes) {
    const files = (await fs.readdir(path.join(src, c))).sort().slice(0, n);
    await fs.mkdir(path.join(dest, c), { recursive: true });
    for (const f of files) await fs.symlink(path.join(src, c, f), path.join(dest, c, f));
  }
  return dest;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the visemo CLI from source (tsx), so tests need no build step. */
export function runCli(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'src', 'cli', 'main.ts'), ...args], {
    cwd: opts.cwd ?? REPO,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 240_000,
    env: { ...process.env, VISEMO_PROGRESS: '0' },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
