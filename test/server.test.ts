/**
 * The web app's server: it serves the page, its bundle, the wasm binaries, the detector and
 * emotion models and the runs folder, nothing else (path traversal, encoded dots, symlinks out,
 * dotfiles), limits uploads (413), and answers bad requests with JSON errors.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hostAllowed, startServer, threadsPerWorker, type RunningServer } from '../src/server/server.js';
import { activeBackend } from '../src/engine/backend.js';
import { registerNativeBackend } from '../src/engine/native/register.js';
import { ckFace, composite, hasDatasets, testModel } from './predict-helpers.js';

const nativeUnavailable = (await registerNativeBackend()) ?? false;

interface Reply {
  status: number;
  type: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A request with the path sent exactly as written (fetch would normalise `..` away). */
function request(base: string, method: string, rawPath: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, method, path: rawPath, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, type: String(res.headers['content-type'] ?? ''), headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    // The server may close early on a refused upload: the reply still arrives.
    req.on('error', reject);
    req.end(body);
  });
}

const json = (r: Reply) => JSON.parse(r.body.toString()) as Record<string, unknown>;
const skip = hasDatasets ? false : 'the shared datasets (../shared/datasets/ckplus48) are not there';

describe('web app server', { skip }, () => {
  let root: string;
  let server: RunningServer;
  let image: Buffer;
  const MAX = 200_000;

  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'visemo-server-'));
    const runs = path.join(root, 'runs');
    const model = (await testModel()).dir;
    await fs.mkdir(path.join(runs, 'tiny'), { recursive: true });
    for (const f of ['model.json', 'weights.bin', 'metadata.json']) await fs.copyFile(path.join(model, f), path.join(runs, 'tiny', f));
    await fs.mkdir(path.join(runs, 'exp1'));
    await fs.writeFile(path.join(runs, 'exp1', 'report.html'), '<html><body>report of exp1</body></html>');
    await fs.writeFile(path.join(runs, 'tiny', '.secret'), 'hidden');
    await fs.writeFile(path.join(root, 'secret.txt'), 'outside the runs folder');
    await fs.symlink(root, path.join(runs, 'escape'));
    image = await composite(640, 400, [
      { file: ckFace('happiness'), left: 20, top: 100, side: 200 },
      { file: ckFace('surprise'), left: 380, top: 100, side: 200 },
    ]);
    server = await startServer({ port: 0, runsDir: runs, maxUploadBytes: MAX });
  });

  after(async () => {
    await server?.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('binds 127.0.0.1 and serves the page, its bundle and the wasm binaries', async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await request(server.url, 'GET', '/');
    assert.equal(page.status, 200);
    assert.match(page.type, /text\/html/);
    assert.match(page.body.toString(), /<script type="module" src="\/app.js">/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
    const app = await request(server.url, 'GET', '/app.js');
    assert.equal(app.status, 200);
    assert.match(app.type, /javascript/);
    assert.ok(app.body.length > 100_000, 'bundle too small to hold tfjs and face-api');
    const wasm = await request(server.url, 'GET', '/vendor/wasm/tfjs-backend-wasm-simd.wasm');
    assert.equal(wasm.status, 200);
    assert.equal(wasm.type, 'application/wasm');
    const detector = await request(server.url, 'GET', '/face-models/ssd_mobilenetv1_model-weights_manifest.json');
    assert.equal(detector.status, 200);
  });

  it('serves nothing outside its folders', async () => {
    const attempts = [
      '/runs/../secret.txt',
      '/runs/%2e%2e/secret.txt',
      '/runs/..%2fsecret.txt',
      '/runs/tiny/..%2f..%2fsecret.txt',
      '/runs/escape/secret.txt',
      '/runs/tiny/.secret',
      '/runs/tiny/%00model.json',
      '/vendor/wasm/../../../package.json',
      '/vendor/wasm/..%2f..%2fpackage.json',
      '/face-models/..%2f..%2fpackage.json',
      '/face-models/face_recognition_model.bin',
      '/models/tiny/model.json',
      '/models/..%2f..%2fpackage.json/model.json',
      '/src/server/server.ts',
      '/package.json',
    ];
    for (const p of attempts) {
      const r = await request(server.url, 'GET', p);
      assert.equal(r.status, 404, `${p} answered ${r.status}`);
      assert.match(r.type, /application\/json/, p);
      assert.ok(typeof json(r).error === 'string', p);
      assert.ok(!/outside the runs folder|hidden|"name": "visemo"/.test(r.body.toString()), `${p} leaked a file`);
    }
  });

  it('lists runs with their report links and models, and serves the report', async () => {
    const r = await request(server.url, 'GET', '/api/runs');
    assert.equal(r.status, 200);
    const { runs } = json(r) as { runs: { id: string; kind: string; report: string | null; model: string | null }[] };
    const byId = Object.fromEntries(runs.map((x) => [x.id, x]));
    assert.deepEqual(Object.keys(byId).sort(), ['exp1', 'tiny']);
    assert.equal(byId.exp1!.kind, 'experiment');
    assert.equal(byId.exp1!.report, '/runs/exp1/report.html');
    assert.equal(byId.tiny!.kind, 'run');
    assert.equal(byId.tiny!.report, null);
    assert.equal(byId.tiny!.model, '/runs/tiny/');
    const report = await request(server.url, 'GET', byId.exp1!.report);
    assert.equal(report.status, 200);
    assert.match(report.body.toString(), /report of exp1/);

    const models = json(await request(server.url, 'GET', '/api/models')) as unknown as { id: string; url: string; inputSize: number; margin: number }[];
    const tiny = models.find((m) => m.id === 'runs/tiny');
    assert.ok(tiny, JSON.stringify(models));
    assert.equal(typeof tiny.margin, 'number');
    const weights = await request(server.url, 'GET', `${tiny.url}weights.bin`);
    assert.equal(weights.status, 200);
  });

  it('recognises an uploaded image and refuses bad uploads with clear JSON errors', async () => {
    const ok = await request(server.url, 'POST', '/api/recognize?model=runs/tiny', image, { 'Content-Type': 'image/png' });
    assert.equal(ok.status, 200, ok.body.toString());
    const body = json(ok) as { faces: { box: object; emotion: string; scores: Record<string, number> }[]; classes: string[]; model: string; backend: string };
    assert.equal(body.faces.length, 2);
    assert.equal(body.model, 'tiny', 'the reply names the model that ran');
    assert.ok(['native', 'wasm'].includes(body.backend), `the reply names the backend that ran: ${body.backend}`);
    assert.ok(body.classes.includes(body.faces[0]!.emotion));

    const big = Buffer.alloc(MAX + 1, 1);
    const tooBig = await request(server.url, 'POST', '/api/recognize?model=runs/tiny', big, { 'Content-Type': 'image/png' });
    assert.equal(tooBig.status, 413);
    assert.match(String(json(tooBig).error), /upload too large: the limit is 200000 bytes/);

    const cases: [string, string, Buffer | undefined, Record<string, string>, number, RegExp][] = [
      ['POST', '/api/recognize?model=runs/tiny', Buffer.from('not an image'), { 'Content-Type': 'image/png' }, 400, /not a readable image/],
      ['POST', '/api/recognize?model=runs/tiny', Buffer.alloc(0), { 'Content-Type': 'image/png' }, 400, /empty body/],
      ['POST', '/api/recognize', Buffer.from('hello'), { 'Content-Type': 'text/plain' }, 415, /unsupported content type/],
      ['POST', '/api/recognize?model=runs/..%2f..%2fsecret', image, { 'Content-Type': 'image/png' }, 404, /no run/],
      ['POST', '/api/recognize?model=no-such-model', image, { 'Content-Type': 'image/png' }, 404, /no model 'no-such-model'/],
      ['GET', '/api/recognize', undefined, {}, 405, /use POST/],
      ['DELETE', '/', undefined, {}, 405, /not allowed/],
    ];
    for (const [method, p, payload, headers, status, message] of cases) {
      const r = await request(server.url, method, p, payload, headers);
      assert.equal(r.status, status, `${method} ${p}: ${r.body.toString()}`);
      assert.match(String(json(r).error), message, `${method} ${p}`);
    }
  });

  it('loads only models it lists, one copy each, and answers only requests addressed to it', async () => {
    const model = (await testModel()).dir;
    // Paths of the server's filesystem are no model names: a model folder outside --runs, /etc and a missing path answer alike.
    const answers = [];
    for (const m of [model, '/etc', '/nonexistent', '../runs/tiny']) {
      const r = await request(server.url, 'POST', `/api/recognize?model=${encodeURIComponent(m)}`, image, { 'Content-Type': 'image/png' });
      assert.equal(r.status, 404, `${m}: ${r.body.toString()}`);
      answers.push(String(json(r).error).replace(m, 'X'));
    }
    assert.equal(new Set(answers).size, 1, `answers differ: ${answers.join(' | ')}`);
    // DNS rebinding: another name for this address is refused; loopback names work.
    const rebound = await request(server.url, 'GET', '/api/models', undefined, { Host: `evil.example:${new URL(server.url).port}` });
    assert.equal(rebound.status, 421);
    assert.match(String(json(rebound).error), /Host 'evil\.example:\d+' is not this server/);
    for (const h of ['localhost', `127.0.0.1:${new URL(server.url).port}`])
      assert.equal((await request(server.url, 'GET', '/api/models', undefined, { Host: h })).status, 200, h);
  });
});

describe('hostAllowed and a server bound beyond loopback', () => {
  it('accepts loopback names on a loopback bind, any name on a chosen wider one, and says so', async () => {
    assert.equal(hostAllowed('127.0.0.1:8321', '127.0.0.1'), true);
    assert.equal(hostAllowed('[::1]:8321', '127.0.0.1'), true);
    assert.equal(hostAllowed('LOCALHOST', '127.0.0.1'), true);
    assert.equal(hostAllowed('attacker.test:8321', '127.0.0.1'), false);
    assert.equal(hostAllowed(undefined, '127.0.0.1'), false);
    assert.equal(hostAllowed('192.168.1.5:8321', '0.0.0.0'), true);
    const wide = await startServer({ host: '0.0.0.0', port: 0, runsDir: os.tmpdir() });
    try {
      assert.equal(wide.exposed, true);
      assert.match(wide.url, /^http:\/\/0\.0\.0\.0:\d+\/$/, 'the URL names the real bind, not loopback');
    } finally {
      await wide.close();
    }
  });
});

describe('server under a hostile client', { skip }, () => {
  it('answers a stalled upload 408 and closes it; a burst of image bombs is refused without decoding them', async () => {
    const runs = await fs.mkdtemp(path.join(os.tmpdir(), 'visemo-hostile-'));
    const srv = await startServer({ port: 0, runsDir: runs, bodyTimeoutMs: 800, maxUploadBytes: 5_000_000 });
    try {
      const { port } = new URL(srv.url);
      const net = await import('node:net');
      const started = Date.now();
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(port), '127.0.0.1', () => {
          // Headers promise 100000 bytes; ten arrive, then nothing.
          socket.write(`POST /api/recognize HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\n0123456789`);
        });
        let data = '';
        socket.on('data', (c) => (data += c.toString()));
        socket.on('close', () => resolve(data));
        socket.on('error', reject);
        setTimeout(() => reject(new Error('the stalled connection stayed open')), 10_000);
      });
      assert.match(reply, /^HTTP\/1\.1 408/);
      assert.match(reply, /did not arrive within 0\.8 s/);
      assert.ok(Date.now() - started < 5_000);

      // Three 9000×9000 PNGs at once (a few hundred KB each, 81 megapixels decoded).
      const sharp = (await import('sharp')).default;
      const bomb = await sharp({ create: { width: 9000, height: 9000, channels: 3, background: { r: 1, g: 1, b: 1 } } })
        .grayscale()
        .png()
        .toBuffer();
      const before = process.memoryUsage().rss;
      const replies = await Promise.all([0, 1, 2].map(() => request(srv.url, 'POST', '/api/recognize', bomb, { 'Content-Type': 'image/png' })));
      for (const r of replies) {
        assert.equal(r.status, 400, r.body.toString());
        assert.match(String(json(r).error), /9000×9000 \(81 megapixels\)/);
      }
      assert.ok(process.memoryUsage().rss - before < 300e6, `memory grew by ${((process.memoryUsage().rss - before) / 1e6).toFixed(0)} MB`);
    } finally {
      await srv.close();
      await fs.rm(runs, { recursive: true, force: true });
    }
  });
});

describe('server under concurrent requests', { skip }, () => {
  let runs: string;
  let image: Buffer;
  const post = (url: string, body: Buffer) => request(url, 'POST', '/api/recognize', body, { 'Content-Type': 'image/png' });

  before(async () => {
    runs = await fs.mkdtemp(path.join(os.tmpdir(), 'visemo-concurrent-'));
    image = await composite(640, 400, [
      { file: ckFace('happiness'), left: 20, top: 100, side: 200 },
      { file: ckFace('surprise'), left: 380, top: 100, side: 200 },
    ]);
  });
  after(() => fs.rm(runs, { recursive: true, force: true }));

  it('recognises concurrent uploads on more than one worker, as the server thread itself does', async () => {
    const pooled = await startServer({ port: 0, runsDir: runs, workers: 2 });
    const inline = await startServer({ port: 0, runsDir: runs, workers: 0 });
    try {
      assert.equal(pooled.pool?.size, 2);
      assert.equal(inline.pool, null);
      await pooled.pool.ready();
      const replies = await Promise.all([0, 1, 2, 3].map(() => post(pooled.url, image)));
      for (const r of replies) assert.equal(r.status, 200, r.body.toString());
      assert.ok(pooled.pool.served.filter((n) => n > 0).length >= 2, `served per worker: ${pooled.pool.served.join(', ')}`);
      const reference = await post(inline.url, image);
      assert.equal(reference.status, 200);
      assert.equal((json(reference).faces as unknown[]).length, 2);
      for (const r of replies) assert.deepEqual(json(r), json(reference));
    } finally {
      await Promise.all([pooled.close(), inline.close()]);
    }
  });

  it('recognises with the detector it was started with, in its workers and in its own thread', async () => {
    const pooled = await startServer({ port: 0, runsDir: runs, workers: 1, detector: 'blazeface' });
    const inline = await startServer({ port: 0, runsDir: runs, workers: 0, detector: 'blazeface' });
    const byDefault = await startServer({ port: 0, runsDir: runs, workers: 0 });
    try {
      const [a, b, ssd] = [json(await post(pooled.url, image)), json(await post(inline.url, image)), json(await post(byDefault.url, image))];
      assert.equal((a.faces as unknown[]).length, 2);
      assert.deepEqual(a, b);
      // Another detector draws other boxes around the same two faces.
      const boxes = (r: Record<string, unknown>) => (r.faces as { box: { x: number } }[]).map((f) => f.box.x).sort((p, q) => p - q);
      assert.notDeepEqual(boxes(a), boxes(ssd));
      boxes(a).forEach((x, i) => assert.ok(Math.abs(x - boxes(ssd)[i]!) < 40, `BlazeFace box at x=${x}, SSD's at ${boxes(ssd)[i]}`));
    } finally {
      await Promise.all([pooled.close(), inline.close(), byDefault.close()]);
    }
  });

  it('recognises on the native backend by default, as on wasm, each worker on its share of the cores', { skip: nativeUnavailable }, async () => {
    type Face = { emotion: string; box: { x: number; y: number; width: number }; scores: Record<string, number> };
    const faces = (r: Record<string, unknown>) => r.faces as Face[];
    /** A face found on native has the emotion of wasm's and its box within half a pixel. */
    const likeWasm = (f: Face, w: Face) => {
      assert.equal(f.emotion, w.emotion);
      assert.ok(
        Math.abs(f.box.x - w.box.x) < 0.5 && Math.abs(f.box.width - w.box.width) < 0.5,
        `box ${JSON.stringify(f.box)} against wasm's ${JSON.stringify(w.box)}`,
      );
    };
    const onWasm = await startServer({ port: 0, runsDir: runs, workers: 0, backend: 'wasm' });
    const wasmReply = json(await post(onWasm.url, image));
    await onWasm.close();
    assert.equal(activeBackend(), 'wasm');
    const byDefault = await startServer({ port: 0, runsDir: runs, workers: 0 });
    const pooled = await startServer({ port: 0, runsDir: runs, workers: 2 });
    try {
      const nativeReply = json(await post(byDefault.url, image));
      assert.equal(activeBackend(), 'native', 'the server thread recognised on native');
      const pooledReply = json(await post(pooled.url, image));
      assert.deepEqual([wasmReply.backend, nativeReply.backend, pooledReply.backend], ['wasm', 'native', 'native'], 'each reply names the backend that ran');
      assert.equal(faces(nativeReply).length, 2);
      for (const reply of [nativeReply, pooledReply]) {
        faces(reply).forEach((f, i) => {
          const w = faces(wasmReply)[i]!;
          likeWasm(f, w);
          for (const [k, p] of Object.entries(w.scores)) assert.ok(Math.abs(f.scores[k]! - p) < 1e-3, `${k}: ${f.scores[k]} against wasm's ${p}`);
        });
      }
    } finally {
      await Promise.all([byDefault.close(), pooled.close()]);
    }
    // BlazeFace is on native by default too (twice as fast there with the buffer pool), with wasm's boxes.
    const blazeWasm = await startServer({ port: 0, runsDir: runs, workers: 0, backend: 'wasm', detector: 'blazeface' });
    const blazeWasmReply = json(await post(blazeWasm.url, image));
    await blazeWasm.close();
    const blaze = await startServer({ port: 0, runsDir: runs, workers: 0, detector: 'blazeface' });
    try {
      const reply = json(await post(blaze.url, image));
      assert.equal(activeBackend(), 'native');
      const [n, w] = [faces(reply), faces(blazeWasmReply)];
      assert.equal(n.length, 2);
      assert.equal(n.length, w.length);
      n.forEach((f, i) => likeWasm(f, w[i]!));
    } finally {
      await blaze.close();
    }
    const cores = Number(process.env.VISEMO_THREADS) || os.availableParallelism();
    assert.equal(threadsPerWorker(cores), 1);
    assert.equal(threadsPerWorker(1), cores);
  });

  it('answers 503 beyond --max-pending before reading the body, and decodes within the pixel budget', async () => {
    const pixels = 640 * 400;
    const srv = await startServer({ port: 0, runsDir: runs, workers: 0, maxPending: 1, pixelBudget: pixels });
    try {
      const { port } = new URL(srv.url);
      const net = await import('node:net');
      // A stalled upload holds the one place.
      const stalled = net.connect(Number(port), '127.0.0.1');
      await new Promise<void>((resolve) => stalled.once('connect', () => resolve()));
      stalled.write(`POST /api/recognize HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\n0123456789`);
      while (srv.admission.inProgress < 1) await new Promise((r) => setTimeout(r, 20));
      const busy = await post(srv.url, image);
      assert.equal(busy.status, 503, busy.body.toString());
      assert.match(String(json(busy).error), /the server is busy: 1 recognition requests are in progress/);
      assert.match(String(json(busy).hint), /--max-pending/);
      assert.equal(busy.headers['retry-after'], '1');
      stalled.destroy();
      while (srv.admission.inProgress > 0) await new Promise((r) => setTimeout(r, 20));
    } finally {
      await srv.close();
    }
    // Three uploads at once, room to decode one: they take turns (the server's own thread would otherwise decode all three together).
    const budgeted = await startServer({ port: 0, runsDir: runs, workers: 0, pixelBudget: pixels });
    try {
      const replies = await Promise.all([0, 1, 2].map(() => post(budgeted.url, image)));
      for (const r of replies) assert.equal(r.status, 200, r.body.toString());
      assert.equal(budgeted.admission.peakPixels, pixels);
      assert.equal(budgeted.admission.pixelsInFlight, 0);
    } finally {
      await budgeted.close();
    }
  });
});
