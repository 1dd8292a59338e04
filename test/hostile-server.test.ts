/**
 * Issue 34, the server's part: what a hostile client tried and what no longer holds a worker or
 * the whole server. Vector images are refused before rendering (by Content-Type and by their
 * bytes), a named pipe in the runs folder is skipped instead of blocking the file-system threads,
 * and a malformed percent-escape is a 400. Loopback only, no model loaded (--workers 0).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { constants as fsConstants, promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startServer, type RunningServer } from '../src/server/server.js';
import sharp from 'sharp';
import { REPO, tempDir } from './helpers.js';

/** The filter chain of the issue: 144.6 s of rendering for a 1 kB upload before vector images were refused. */
const SVG_BOMB = Buffer.from(
  `<svg xmlns="http://www.w3.org/2000/svg" width="2000" height="2000"><filter id="f" x="0" y="0" width="100%" height="100%">` +
    `<feTurbulence baseFrequency="0.9" numOctaves="10"/>` +
    Array.from({ length: 10 }, () => '<feGaussianBlur stdDeviation="40"/><feMorphology operator="dilate" radius="30"/>').join('') +
    `</filter><rect width="2000" height="2000" filter="url(#f)"/></svg>`,
);

/** A request that must be answered within `ms`: a hang fails the test instead of stalling it. */
async function timed(url: string, init: RequestInit = {}, ms = 10_000): Promise<{ status: number; body: Record<string, unknown>; seconds: number }> {
  const started = performance.now();
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(ms) });
  const text = await res.text();
  return {
    status: res.status,
    body: text.startsWith('{') || text.startsWith('[') ? (JSON.parse(text) as Record<string, unknown>) : { text },
    seconds: (performance.now() - started) / 1000,
  };
}

describe('hostile requests to the server (issue 34)', () => {
  let server: RunningServer;
  let fifo: string;

  before(async () => {
    const runs = path.join(tempDir('visemo-hostile-server-'), 'runs');
    await fs.mkdir(path.join(runs, 'x'), { recursive: true });
    // A run whose metadata.json disagrees with its graph (item 9): input size 48 for a 50×50 model.
    const bad = path.join(runs, 'bad');
    await fs.cp(path.join(REPO, 'models', 'paper-fer50'), bad, { recursive: true });
    const meta = JSON.parse(await fs.readFile(path.join(bad, 'metadata.json'), 'utf8')) as { inputSize: number };
    meta.inputSize = 48;
    await fs.writeFile(path.join(bad, 'metadata.json'), JSON.stringify(meta));
    fifo = path.join(runs, 'x', 'metadata.json');
    const made = spawnSync('mkfifo', [fifo]);
    assert.equal(made.status, 0, `mkfifo failed: ${made.stderr}`);
    server = await startServer({ port: 0, runsDir: runs, workers: 0 });
  });

  after(async () => {
    // Were a read still waiting on the pipe, a writer opening it lets the thread go.
    const writer = await fs.open(fifo, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK).catch(() => null);
    await writer?.close();
    await server?.close();
  });

  it('refuses an SVG upload by its Content-Type, before reading it', async () => {
    const r = await timed(`${server.url}api/recognize`, { method: 'POST', body: SVG_BOMB, headers: { 'Content-Type': 'image/svg+xml' } });
    assert.equal(r.status, 415);
    assert.match(String(r.body.error), /vector images \(image\/svg\+xml\) are not accepted/);
    assert.match(String(r.body.hint), /JPEG, PNG/);
  });

  it('refuses SVG bytes sent as image/png or octet-stream, within seconds rather than minutes', async () => {
    for (const type of ['image/png', 'application/octet-stream']) {
      const r = await timed(`${server.url}api/recognize`, { method: 'POST', body: SVG_BOMB, headers: { 'Content-Type': type } });
      assert.equal(r.status, 415, JSON.stringify(r.body));
      assert.match(String(r.body.error), /vector images \(SVG\) are not accepted/);
      assert.ok(r.seconds < 5, `answered after ${r.seconds.toFixed(1)} s`);
    }
  });

  it("a named pipe as a run's metadata.json leaves every route answering", async () => {
    // Four readers blocked on the pipe used to take all four of libuv's threads.
    for (let i = 0; i < 6; i++) {
      const r = await timed(`${server.url}api/runs`);
      assert.equal(r.status, 200);
    }
    const models = await timed(`${server.url}api/models`);
    assert.equal(models.status, 200);
    const page = await timed(server.url);
    assert.equal(page.status, 200);
    const served = await timed(`${server.url}runs/x/metadata.json`);
    assert.equal(served.status, 404, 'a pipe is not served');
  });

  it('a model whose metadata disagrees with its graph is a 500 naming the files, not 400 "not a readable image"', async () => {
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    const r = await timed(`${server.url}api/recognize?model=runs/bad`, { method: 'POST', body: png, headers: { 'Content-Type': 'image/png' } }, 120_000);
    assert.equal(r.status, 500, JSON.stringify(r.body));
    assert.match(
      String(r.body.error),
      /the model could not be loaded: .*bad\/metadata\.json does not match .*bad\/model\.json: it says input size 48, the graph 50×50/,
    );
  });

  it('a malformed percent-escape in a path is a 400, not a 500', async () => {
    for (const p of ['models/%E0%A4%A/model.json', 'runs/%E0%A4%A/report.html', 'vendor/wasm/%ZZ.wasm']) {
      const r = await timed(`${server.url}${p}`);
      assert.equal(r.status, 400, `${p}: ${JSON.stringify(r.body)}`);
      assert.match(String(r.body.error), /malformed percent-encoding/);
    }
  });
});
