/**
 * Issue 34, item 2: a Redis that refuses, or accepts and never answers, or lacks the URL's
 * database, is a clear error and exit 2 within seconds for `queue status`, `queue add` and
 * `worker --until-empty` (they used to print nothing, forever). Loopback only: a plain TCP server
 * that accepts and never replies, a port nothing listens on, and (where installed) a real
 * redis-server for the database check.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../src/util/free-port.js';
import { REPO, tempDir } from './helpers.js';

const CLI = ['--import', 'tsx', path.join(REPO, 'src/cli/main.ts')];
/** Start-up of the CLI from source on a loaded machine, plus the 5 s bound on Redis. */
const WITHIN_S = 25;

function cli(args: string[]): Promise<{ code: number | null; stderr: string; seconds: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [...CLI, ...args], { cwd: REPO, timeout: 90_000, env: { ...process.env, VISEMO_PROGRESS: '0' } }, (err, _stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stderr, seconds: (performance.now() - started) / 1000 });
    });
  });
}

describe('an unreachable Redis ends queue commands and workers with exit 2 (issue 34)', () => {
  let silent: net.Server;
  const sockets = new Set<net.Socket>();
  let silentUrl: string;
  let refusedUrl: string;
  let video: string;
  const out = tempDir('visemo-queue-unreachable-');

  before(async () => {
    // Accepts every connection and never writes a byte back.
    silent = net.createServer((s) => {
      sockets.add(s);
      s.on('data', () => {});
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentUrl = `redis://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    refusedUrl = `redis://127.0.0.1:${await freePort()}`;
    // queue add talks to Redis only once it has a video to add; the name is enough.
    video = path.join(out, 'clip.mp4');
    await fs.writeFile(video, 'not really a video');
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  const commands: [string, (url: string) => string[]][] = [
    ['queue status', (url) => ['queue', 'status', '--redis', url]],
    ['queue add', (url) => ['queue', 'add', video, '--redis', url]],
    ['worker --until-empty', (url) => ['worker', '--until-empty', '--out', path.join(out, 'results'), '--redis', url]],
  ];
  for (const [name, args] of commands) {
    it(`${name}: a server that never answers, and a refused port`, async () => {
      for (const [kind, url] of [
        ['never answers', silentUrl],
        ['refused', refusedUrl],
      ] as const) {
        const r = await cli(args(url));
        assert.equal(r.code, 2, `${kind}: ${r.stderr}`);
        assert.match(
          r.stderr,
          new RegExp(`cannot reach Redis at ${url.replace(/[/.]/g, '\\$&')} \\((Command timed out|connect ECONNREFUSED[^)]*)\\) — start redis-server`),
          kind,
        );
        assert.ok(r.seconds < WITHIN_S, `${kind}: ${r.seconds.toFixed(1)} s`);
        assert.doesNotMatch(r.stderr, /\n\s+at /, `${kind}: no stack trace`);
      }
    });
  }
});

const hasRedis = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

describe('a database the server lacks is named, not replaced by database 0 (issue 34)', { skip: hasRedis ? false : 'redis-server is not installed' }, () => {
  let port: number;
  let server: ReturnType<typeof spawn>;

  before(async () => {
    port = await freePort();
    server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 50; i++) {
      const up = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
        s.on('error', () => resolve(false));
      });
      if (up) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('redis-server did not start');
  });

  after(() => {
    server.kill('SIGTERM');
  });

  it('queue status and worker refuse /999 with exit 2; /3 is used', async () => {
    const url = `redis://127.0.0.1:${port}/999`;
    const status = await cli(['queue', 'status', '--redis', url]);
    assert.equal(status.code, 2, status.stderr);
    assert.match(status.stderr, /Redis at redis:\/\/127\.0\.0\.1:\d+\/999 has no database 999 \(ERR DB index is out of range\)/);
    const worker = await cli(['worker', '--until-empty', '--out', tempDir(), '--redis', url]);
    assert.equal(worker.code, 2, worker.stderr);
    assert.match(worker.stderr, /has no database 999/);
    const ok = await cli(['queue', 'status', '--redis', `redis://127.0.0.1:${port}/3`]);
    assert.equal(ok.code, 0, ok.stderr);
  });
});
