/**
 * The addon's primitive caches are per thread, so the server's recognition workers run native
 * kernels at the same time. Two worker threads repeating the same convolutions at once (whose
 * weights oneDNN reorders into a per-primitive scratch buffer) must each get the main thread's
 * result: a shared scratch buffer would mix their weights. And a primitive is built for the
 * thread count it runs with: oneDNN divides its work when it is created.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { loadAddon, type NativeAddon } from './addon.js';
import { registerNativeBackend } from './register.js';
import { packConvParams } from './params.generated.js';
import { convRounds } from './threads.fixture.js';

const skip = (await registerNativeBackend()) ?? false;

/** Starts a worker that waits on `go`, then repeats the convolutions; resolves with its checksums. */
function startWorker(seed: number, go: Int32Array, rounds: number): { ready: Promise<void>; done: Promise<number[]> } {
  const tsx = import.meta.resolve('tsx/esm/api');
  const fixture = new URL('./threads.fixture.ts', import.meta.url).href;
  const boot = `
    const { parentPort, workerData } = await import('node:worker_threads');
    (await import(${JSON.stringify(tsx)})).register();
    const { convRounds } = await import(${JSON.stringify(fixture)});
    await convRounds(workerData.seed, 1);
    parentPort.postMessage('ready');
    Atomics.wait(workerData.go, 0, 0);
    parentPort.postMessage(await convRounds(workerData.seed, workerData.rounds));`;
  const w = new Worker(boot, { eval: true, workerData: { seed, go, rounds }, env: { ...process.env, VISEMO_THREADS: '1' } });
  const errored = new Promise<never>((_, reject) => w.once('error', reject));
  const ready = Promise.race([new Promise<void>((resolve) => w.once('message', () => resolve())), errored]);
  const done = ready.then(() =>
    Promise.race([new Promise<number[]>((resolve) => w.once('message', (m: number[]) => void w.terminate().then(() => resolve(m)))), errored]),
  );
  return { ready, done };
}

function matches(got: number[], expected: number[]): boolean {
  return (
    got.length > 0 &&
    expected.length > 0 &&
    got.every((v, i) => {
      const e = expected[i % expected.length]!; // expected is not empty
      return Math.abs(v - e) <= 1e-5 * Math.abs(e);
    })
  );
}

test('native convolutions in two worker threads at once match the main thread', { skip, timeout: 120_000 }, async () => {
  // Both workers warm up (the primitives built), then start together on one signal.
  const go = new Int32Array(new SharedArrayBuffer(4));
  const workers = [startWorker(1, go, 150), startWorker(2, go, 150)];
  await Promise.all(workers.map((w) => w.ready));
  Atomics.store(go, 0, 1);
  Atomics.notify(go, 0);
  const [a = [], b = []] = await Promise.all(workers.map((w) => w.done));
  const expectA = await convRounds(1, 1);
  const expectB = await convRounds(2, 1);
  assert.ok(matches(a, expectA), `worker 1: ${a.slice(0, 6)} against ${expectA}`);
  assert.ok(matches(b, expectB), `worker 2: ${b.slice(0, 6)} against ${expectB}`);
  assert.notDeepEqual(expectA, expectB, 'the two workers must compute different things');
});

test('after setThreads a convolution runs on a primitive built for the new thread count', { skip }, () => {
  const addon = loadAddon() as NativeAddon;
  const restore = addon.info().threads;
  // One 3x3 convolution, 8->16 channels on 10x10 (a shape no other test of this file uses).
  const params = packConvParams({
    batch: 2,
    inHeight: 10,
    inWidth: 10,
    inChannels: 8,
    filterHeight: 3,
    filterWidth: 3,
    outChannels: 16,
    outHeight: 10,
    outWidth: 10,
    strideHeight: 1,
    strideWidth: 1,
    dilationHeight: 1,
    dilationWidth: 1,
    padTop: 1,
    padLeft: 1,
    padBottom: 1,
    padRight: 1,
  });
  const x = new Float32Array(2 * 10 * 10 * 8).fill(0.5);
  const w = new Float32Array(9 * 8 * 16).fill(0.25);
  const y = new Float32Array(2 * 10 * 10 * 16);
  const conv = () => assert.ok(addon.conv2d(x, w, null, y, params, false), 'the convolution ran');
  try {
    addon.setThreads(1);
    conv();
    const built = addon.info().primitives;
    conv();
    assert.equal(addon.info().primitives, built, 'the same thread count reuses its primitive');
    addon.setThreads(2);
    conv();
    // Before the fix the one-thread primitive was reused, and a second core never joined in.
    assert.equal(addon.info().primitives, built + 1, 'two threads get a primitive of their own');
    assert.equal(y[0], 0.5 * 0.25 * 8 * 4, 'a corner output sums 2x2 taps of 8 channels');
    addon.setThreads(1);
    conv();
    assert.equal(addon.info().primitives, built + 1, 'going back to one thread reuses the first primitive');
  } finally {
    addon.setThreads(restore);
  }
});
