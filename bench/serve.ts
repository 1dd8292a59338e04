/**
 * `npm run bench -- serve`: POST /api/recognize under concurrent load, in one run, on the same
 * images: the server as it was (recognition in its own thread on wasm, no decode bound:
 * `--workers 0 --decode-budget 100000 --backend wasm`) beside the worker pool (`--workers n`,
 * default one per core, with the default decode budget) on wasm and on the native backend. Each
 * server is its own `visemo serve` process (from source, through tsx), so its peak RSS (the
 * kernel's VmHWM) is its own. Rounds alternate between
 * the servers, so a change in the machine's other load during the run falls on all of them alike.
 *
 * Then an image-bomb burst per server: 8 concurrent 16000×16000 PNGs (a few hundred KB each,
 * refused from their header), then 8 concurrent 8000×8000 PNGs (64 megapixels, at the limit:
 * decoded), with each server's peak RSS before and after. The images are made here with sharp and
 * never written to disk.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os, { cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import sharp from 'sharp';
import { defaultWorkers } from '../src/server/server.js';
import { writeJsonAtomic } from '../src/util/atomic.js';

const REPO = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const CKPLUS = path.resolve(REPO, '../shared/datasets/ckplus48');

interface ServeBenchOptions {
  workers: number[];
  /** Detectors other than the default to time with the pool (serve --detector). */
  detectors: string[];
  concurrency: number;
  requests: number;
  rounds: number;
  bombs: number;
  levers: boolean;
  out: string;
}

interface ServerUnderTest {
  label: string;
  /** Timed in the throughput rounds (else only in the image-bomb bursts). */
  throughput: boolean;
  args: string[];
  child: ChildProcess;
  url: string;
  latencies: number[];
  wallMs: number;
  /** CPU seconds the server process (all its threads) spent during its rounds. */
  cpuSeconds: number;
  errors: number;
}

/** The image every request posts: two CK+ faces on a plain 640×400 background when the shared data is there, else a face-less picture of the same size (the detector's work is the same). */
async function testImage(): Promise<{ image: Buffer; what: string }> {
  if (existsSync(CKPLUS)) {
    const face = async (cls: string, left: number) => {
      const file = path.join(CKPLUS, cls, readdirSync(path.join(CKPLUS, cls)).sort()[0]!);
      return { input: await sharp(file).resize(200, 200).toColourspace('srgb').png().toBuffer(), left, top: 100 };
    };
    const image = await sharp({ create: { width: 640, height: 400, channels: 3, background: { r: 90, g: 110, b: 130 } } })
      .composite([await face('happiness', 20), await face('surprise', 380)])
      .png()
      .toBuffer();
    return { image, what: '640×400 PNG, two CK+ faces' };
  }
  const image = await sharp({
    create: { width: 640, height: 400, channels: 3, background: { r: 0, g: 0, b: 0 }, noise: { type: 'gaussian', mean: 128, sigma: 40 } },
  })
    .png()
    .toBuffer();
  return { image, what: '640×400 PNG of noise (no ../shared/datasets/ckplus48): no faces, the same detector work' };
}

/** One upload; a connection error counts as status 0 (named on stderr), not as a failed bench. */
function post(url: string, body: Buffer, agent: http.Agent): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.request(
      `${url}api/recognize`,
      { method: 'POST', agent, headers: { 'Content-Type': 'image/png', 'Content-Length': body.length } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
      },
    );
    req.on('error', (err) => {
      process.stderr.write(`bench: POST ${url}api/recognize: ${err.message}\n`);
      resolve({ status: 0, ms: performance.now() - t0 });
    });
    req.end(body);
  });
}

/** `count` posts, at most `concurrency` at a time. */
async function load(url: string, body: Buffer, count: number, concurrency: number): Promise<{ latencies: number[]; wallMs: number; statuses: number[] }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  const statuses: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        next++;
        const r = await post(url, body, agent);
        latencies.push(r.ms);
        statuses.push(r.status);
      }
    }),
  );
  agent.destroy();
  return { latencies, wallMs: performance.now() - t0, statuses };
}

/** Starts `visemo serve` from source on a free port; resolves with its URL. */
async function startServe(label: string, args: string[], runsDir: string, throughput: boolean): Promise<ServerUnderTest> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(REPO, 'src/cli/main.ts'), 'serve', '--port', '0', '--quiet', '--runs', runsDir, ...args],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /visemo web app at (http:\/\/\S+\/)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`visemo serve ${args.join(' ')} exited with ${code} before listening`)));
  });
  return { label, throughput, args, child, url, latencies: [], wallMs: 0, cpuSeconds: 0, errors: 0 };
}

/** The process's resident memory now and at its peak (MB), from /proc. */
function memoryOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

/** CPU seconds a process has used, all threads (user + system), from /proc (clock ticks of 1/100 s on Linux). */
function cpuSecondsOf(pid: number): number {
  // The command name may hold spaces: the fields after it are counted from its closing parenthesis.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
/**
 * Would batching concurrent requests through one model call help? In this process, on the wasm
 * backend the server uses: the SSD detector's forward pass per image at batch 1 and 4 (face-api's
 * own net, fed a batch), and the emotion model per face at batch 1 and 16.
 */
async function batchingLevers(image: Buffer): Promise<{ detectMsPerImage: Record<string, number>; classifyMsPerFace: Record<string, number> }> {
  const { createRequire } = await import('node:module');
  const { tf } = await import('../src/engine/tf.js');
  const { EmotionRecognizer } = await import('../src/inference/recognizer.js');
  const { toRgb } = await import('../src/image/decode.js');
  const { faceApiModelDir } = await import('../src/image/face-detector.js');
  const recognizer = await EmotionRecognizer.load();
  const rgb = await toRgb(image);
  const faces = await recognizer.recognize(image);
  const crops = await recognizer.cutFaces(rgb, faces.length ? faces.map((f) => f.box) : [{ x: 0, y: 0, width: 200, height: 200 }]);
  const api = createRequire(import.meta.url)('@vladmandic/face-api/dist/face-api.node-wasm.js');
  const net = api.nets.ssdMobilenetv1;
  if (!net.isLoaded) await net.loadFromDisk(faceApiModelDir());
  const detectMsPerImage: Record<string, number> = {};
  for (const batch of [1, 4, 1, 4]) {
    const inputs = Array.from({ length: batch }, () => tf.tensor3d(Int32Array.from(rgb.data), [rgb.height, rgb.width, 3], 'int32'));
    const t0 = performance.now();
    const out = net.forwardInput(await api.toNetInput(inputs));
    await out.scores[0].data();
    detectMsPerImage[batch] = (performance.now() - t0) / batch; // the second pass of each batch size is kept (the first warms up)
    tf.dispose([...inputs, ...out.boxes, ...out.scores]);
  }
  const classifyMsPerFace: Record<string, number> = {};
  for (const batch of [1, 16, 1, 16]) {
    const set = Array.from({ length: batch }, (_, i) => crops[i % crops.length]!);
    const t0 = performance.now();
    for (let k = 0; k < 4; k++) recognizer.classifyCrops(set);
    classifyMsPerFace[batch] = (performance.now() - t0) / (4 * batch);
  }
  recognizer.dispose({ faceNets: true });
  return { detectMsPerImage, classifyMsPerFace };
}

const fmt = (v: number, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : '-');

/** The servers to start: today's, the pool on wasm and on native per worker count, the other detectors; and, in the bursts only, the decode budget alone. */
function serverConfigs(opts: ServeBenchOptions): [string, string[], boolean][] {
  const configs: [string, string[], boolean][] = [
    // Today's server: recognition in its own thread on wasm, no decode bound.
    ['today: --workers 0 --backend wasm', ['--workers', '0', '--decode-budget', '100000', '--backend', 'wasm'], true],
    // The pool alone, and the pool with the native backend (the default where the addon is built).
    ...opts.workers.map((n): [string, string[], boolean] => [`--workers ${n} --backend wasm`, ['--workers', String(n), '--backend', 'wasm'], true]),
    ...opts.workers.map((n): [string, string[], boolean] => [`--workers ${n} (native)`, ['--workers', String(n), '--backend', 'native'], true]),
    ...opts.detectors.map((d): [string, string[], boolean] => [
      `--workers ${opts.workers.at(-1)} --detector ${d}`,
      ['--workers', String(opts.workers.at(-1)), '--detector', d],
      true,
    ]),
  ];
  // In the bursts only: the decode budget alone bounds memory, whatever the worker count.
  if (opts.bombs > 0) configs.push(['--workers 0 (the decode budget alone)', ['--workers', '0'], false]);
  return configs;
}

/** Every worker loads the model and the detector on its first request: two posts per worker first. */
async function warmUp(servers: ServerUnderTest[], image: Buffer): Promise<void> {
  for (const s of servers) {
    const n = Math.max(1, Number(s.args[1]));
    const agent = new http.Agent({ keepAlive: false });
    for (let i = 0; i < 2; i++) await Promise.all(Array.from({ length: n }, () => post(s.url, image, agent)));
  }
}

/** The throughput rounds, alternating between the servers; each server's latencies, wall and CPU time add up. */
async function throughputRounds(timed: ServerUnderTest[], image: Buffer, opts: ServeBenchOptions): Promise<void> {
  for (let round = 0; round < opts.rounds; round++) {
    for (const s of timed) {
      const cpu0 = cpuSecondsOf(s.child.pid!);
      const r = await load(s.url, image, opts.requests, opts.concurrency);
      s.cpuSeconds += cpuSecondsOf(s.child.pid!) - cpu0;
      // Requests answered 200 count; any other answer (or a reset connection) is an error.
      const ok = r.latencies.filter((_, i) => r.statuses[i] === 200);
      s.latencies.push(...ok);
      s.wallMs += r.wallMs;
      s.errors += r.statuses.length - ok.length;
      console.log(
        `round ${round + 1}, ${s.label}: ${fmt((1000 * ok.length) / r.wallMs, 2)} req/s${ok.length < r.statuses.length ? ` (${r.statuses.length - ok.length} failed)` : ''}`,
      );
    }
  }
}

/** Each timed server's row, printed as the table against today's server (the first). */
function throughputTable(timed: ServerUnderTest[]) {
  const rows = timed.map((s) => ({
    server: s.label,
    args: s.args,
    requests: s.latencies.length,
    errors: s.errors,
    requestsPerSecond: (1000 * s.latencies.length) / s.wallMs,
    p50Ms: percentile(s.latencies, 50),
    p99Ms: percentile(s.latencies, 99),
    cpuSecondsPerRequest: s.cpuSeconds / (s.latencies.length + s.errors),
    coresUsed: s.cpuSeconds / (s.wallMs / 1000),
    ...memoryOf(s.child.pid!),
  }));
  const ref = rows[0]!.requestsPerSecond;
  console.log(`\n${'server'.padEnd(45)} req/s   p50 ms   p99 ms  vs today  CPU s/req  cores used  peak RSS MB  errors`);
  for (const r of rows) {
    console.log(
      `${r.server.padEnd(44)} ${fmt(r.requestsPerSecond, 2).padStart(6)} ${fmt(r.p50Ms).padStart(8)} ${fmt(r.p99Ms).padStart(8)} ${`${(r.requestsPerSecond / ref).toFixed(2)}x`.padStart(9)} ${fmt(r.cpuSecondsPerRequest, 2).padStart(10)} ${fmt(r.coresUsed, 2).padStart(11)} ${fmt(r.peakMb).padStart(12)} ${String(r.errors).padStart(7)}`,
    );
  }
  console.log(`(cores used: the server's CPU time over its rounds' wall time, of ${cpus().length}: what the machine's other load left it)`);
  return rows;
}

/** The image-bomb bursts on every server, each with its peak RSS before and after. */
async function bombBursts(servers: ServerUnderTest[], bombsAtOnce: number): Promise<Record<string, unknown>[]> {
  const bursts: Record<string, unknown>[] = [];
  const makeBomb = (side: number) =>
    sharp({ create: { width: side, height: side, channels: 3, background: { r: 1, g: 1, b: 1 } }, limitInputPixels: false })
      .grayscale()
      .png()
      .toBuffer();
  const bombs = [
    { what: '16000×16000 PNG (over the 64-megapixel limit)', body: await makeBomb(16000) },
    { what: '8000×8000 PNG (64 megapixels, at the limit: decoded)', body: await makeBomb(8000) },
  ];
  console.log(`\nimage-bomb bursts: ${bombsAtOnce} concurrent posts each`);
  console.log(`${'server'.padEnd(44)}  burst                                                  KB  statuses          s  peak RSS MB before → after`);
  for (const s of servers) {
    for (const b of bombs) {
      const before = memoryOf(s.child.pid!);
      const r = await load(s.url, b.body, bombsAtOnce, bombsAtOnce);
      const after = memoryOf(s.child.pid!);
      const statuses = Object.entries(r.statuses.reduce<Record<number, number>>((m, x) => ((m[x] = (m[x] ?? 0) + 1), m), {}))
        .map(([k, v]) => `${v}×${k}`)
        .join(' ');
      console.log(
        `${s.label.padEnd(44)}  ${b.what.padEnd(52)} ${fmt(b.body.length / 1024).padStart(4)}  ${statuses.padEnd(12)} ${fmt(r.wallMs / 1000, 1).padStart(6)}  ${fmt(before.peakMb).padStart(6)} → ${fmt(after.peakMb)}`,
      );
      bursts.push({
        server: s.label,
        burst: b.what,
        bytes: b.body.length,
        statuses: r.statuses,
        seconds: r.wallMs / 1000,
        peakMbBefore: before.peakMb,
        peakMbAfter: after.peakMb,
      });
    }
  }
  return bursts;
}

/** The batching levers, timed in this process once the servers are stopped (they would compete for the cores). */
async function timeLevers(servers: ServerUnderTest[], image: Buffer): Promise<Awaited<ReturnType<typeof batchingLevers>>> {
  for (const s of servers) s.child.kill('SIGTERM');
  const levers = await batchingLevers(image);
  const d = levers.detectMsPerImage;
  const c = levers.classifyMsPerFace;
  console.log(
    `\nbatching, in one thread: detector ${fmt(d[1]!)} ms per image at batch 1, ${fmt(d[4]!)} at batch 4 (${fmt(100 * (1 - d[4]! / d[1]!))}% less); emotion model ${fmt(c[1]!, 1)} ms per face at batch 1, ${fmt(c[16]!, 1)} at batch 16`,
  );
  return levers;
}

export async function benchServe(opts: ServeBenchOptions): Promise<void> {
  const loadAtStart = os.loadavg();
  const { image, what } = await testImage();
  const runsDir = await mkdtemp(path.join(os.tmpdir(), 'visemo-bench-serve-'));
  const configs = serverConfigs(opts);
  console.log(`image: ${what}; ${opts.rounds} rounds of ${opts.requests} requests per server at concurrency ${opts.concurrency}, alternating`);
  console.log(`machine: ${cpus().length} cores, load average ${loadAtStart.map((l) => l.toFixed(1)).join(' ')} at the start`);
  const servers: ServerUnderTest[] = [];
  try {
    for (const [label, args, throughput] of configs) servers.push(await startServe(label, args, runsDir, throughput));
    const timed = servers.filter((s) => s.throughput);
    await warmUp(servers, image);
    await throughputRounds(timed, image, opts);
    const rows = throughputTable(timed);
    const bursts = opts.bombs > 0 ? await bombBursts(servers, opts.bombs) : [];
    const levers = opts.levers ? await timeLevers(servers, image) : null;
    const loadAtEnd = os.loadavg();
    console.log(
      `\nload average ${loadAtEnd.map((l) => l.toFixed(1)).join(' ')} at the end (${cpus().length} cores): ratios within this run compare; absolute figures depend on the machine's other load`,
    );
    await writeJsonAtomic(opts.out, {
      mode: 'serve',
      date: new Date().toISOString(),
      machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, loadAverage: { start: loadAtStart, end: loadAtEnd } },
      config: { image: what, concurrency: opts.concurrency, requestsPerRound: opts.requests, rounds: opts.rounds, bombs: opts.bombs },
      results: rows,
      bursts,
      batching: levers,
    });
    console.log(`written ${opts.out}`);
  } finally {
    for (const s of servers) s.child.kill('SIGTERM');
    await rm(runsDir, { recursive: true, force: true });
  }
}

const intList = (v: string) =>
  v
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n >= 1);

/** `npm run bench -- serve`: its entry in bench/run.ts's table of benchmarks. */
export const serveBench = {
  name: 'serve',
  description:
    "POST /api/recognize at concurrency 8: requests/s, p50/p99 and peak RSS of today's single-thread server beside the worker pool, and under an image-bomb burst",
  options: (cmd: Command) =>
    cmd
      .option('--workers <list>', "worker counts to measure beside today's --workers 0 (default: one per core)", intList, [defaultWorkers()])
      .option(
        '--detectors <list>',
        "other face detectors to time with the last pool (serve --detector; 'none': no such row)",
        (v) => v.split(',').filter((d) => d && d !== 'none'),
        ['blazeface'],
      )
      .option('--concurrency <n>', 'requests in flight', (v) => Number(v), 8)
      .option('--requests <n>', 'requests per server per round', (v) => Number(v), 24)
      .option('--rounds <n>', 'rounds, alternating between the servers', (v) => Number(v), 2)
      .option('--bombs <n>', 'concurrent posts per image-bomb burst (0: no bursts)', (v) => Number(v), 8)
      .option('--no-levers', 'skip timing the detector and the emotion model at batch 1 and in batches'),
  run: (o: Omit<ServeBenchOptions, 'out'>, out: string) => benchServe({ ...o, out }),
};
