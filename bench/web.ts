/**
 * `npm run bench -- web`: frames per second of the web page on a live webcam, in headless
 * Chromium (Debian's, driven by playwright-core) on tfjs wasm, for each face detector the page
 * offers, in one run on the same fake webcam: Chromium's fake capture playing a 640×480 y4m made
 * with ffmpeg from a shared face (one face, drifting slowly). Each detector gets a fresh page; the
 * fps is the page's own figure (frames analysed over the last two seconds), read after a warm-up.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { type RunningServer, startServer } from '../src/server/server.js';
import { writeJsonAtomic } from '../src/util/atomic.js';
import { pickFaces } from './video.js';

export interface WebBenchOptions {
  seconds: number;
  detectors: string[];
  out: string;
}

interface PageState {
  ready: boolean;
  error: string | null;
  frames: number;
  fps: number;
  faces: unknown[];
  backend: string;
  videoDetector: string;
  timing: { trackMs: number; cropMs: number; classifyMs: number; drawMs: number; totalMs: number };
}

const CHROMIUM = process.env.VISEMO_CHROMIUM ?? '/usr/bin/chromium';

/** One detector's figures, measured on a fresh page after its warm-up. */
interface WebRow {
  detector: string;
  videoDetector: string;
  backend: string;
  frames: number;
  fps: number;
  faces: number;
  msPerFrame: Record<string, number>;
}

/**
 * The fake webcam: a 640×480 y4m of `seconds` (at least 4) in `dir`. The face drifts 20 px/s to
 * the right over a plain background: the tracker has to follow it.
 */
function makeWebcamVideo(dir: string, seconds: number): string {
  const y4m = path.join(dir, 'webcam.y4m');
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `color=c=0x5a6e82:s=640x480:d=${seconds}:r=25`,
    '-loop',
    '1',
    '-i',
    pickFaces()[0]!,
    '-filter_complex',
    "[1]scale=200:253[f];[0][f]overlay=x='150+20*t':y=110,format=yuv420p",
    '-t',
    String(seconds),
    y4m,
  ]);
  return y4m;
}

/** Headless Chromium whose fake webcam plays `y4m`, its permission prompt answered yes. */
async function launchChromium(y4m: string): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--headless',
      '--disable-gpu',
      '--no-first-run',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${y4m}`,
    ],
  });
}

/** The page with `?detector=`, its webcam started and warmed up, then its counters read `seconds` apart. */
async function timeDetector(browser: Browser, url: string, detector: string, seconds: number): Promise<WebRow> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  try {
    const state = () => page.evaluate(() => (window as unknown as { visemo: PageState }).visemo);
    await page.goto(`${url}?detector=${detector}`);
    await page.waitForFunction(
      () => {
        const s = (window as unknown as { visemo?: PageState }).visemo;
        return s?.ready || s?.error;
      },
      null,
      { timeout: 120_000 },
    );
    await page.click('#webcam');
    // Warm-up: kernels and the first full detections.
    await page.waitForFunction(() => (window as unknown as { visemo: PageState }).visemo.frames >= 10, null, { timeout: 120_000 });
    const before = await state();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const after = await state();
    if (after.error) throw new Error(`page (${detector}): ${after.error}`);
    const frames = after.frames - before.frames;
    const msPerFrame = Object.fromEntries(
      (['trackMs', 'cropMs', 'classifyMs', 'drawMs', 'totalMs'] as const).map((k) => [k.replace('Ms', ''), (after.timing[k] - before.timing[k]) / frames]),
    );
    return {
      detector,
      videoDetector: after.videoDetector,
      backend: after.backend,
      frames,
      fps: frames / ((performance.now() - t0) / 1000),
      faces: after.faces.length,
      msPerFrame,
    };
  } finally {
    await page.close();
  }
}

/** The table (fps set against the SSD page's), the JSON rows, and the load average at both ends. */
async function reportWeb(opts: WebBenchOptions, rows: WebRow[], loadAtStart: number[]): Promise<void> {
  const ref = rows.find((r) => r.videoDetector === 'ssd');
  console.log(`\npage detector  video detector  backend  frames     fps  faces  vs SSD   ms per frame: detect+follow  crop+model (crop)  draw  analysis`);
  for (const r of rows) {
    const m = r.msPerFrame;
    const ms = [m.track!, m.classify!, m.crop!, m.draw!, m.total!].map((x, i) => x.toFixed(1).padStart([13, 10, 6, 5, 9][i]!)).join('  ');
    console.log(
      `${r.detector.padEnd(13)}  ${r.videoDetector.padEnd(14)}  ${r.backend.padEnd(7)}  ${String(r.frames).padStart(6)}  ${r.fps.toFixed(1).padStart(6)}  ${String(r.faces).padStart(5)}  ${(ref && ref !== r ? `${(r.fps / ref.fps).toFixed(2)}x` : '').padEnd(5)}                ${ms}`,
    );
  }
  console.log(
    "(analysis: from taking a frame to its drawn result; the rest of a frame's time is the browser waiting for the next animation frame and video frame)",
  );
  await writeJsonAtomic(opts.out, {
    mode: 'web',
    date: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, loadAverage: { start: loadAtStart, end: os.loadavg() } },
    config: { seconds: opts.seconds, width: 640, height: 480, fps: 25, backend: 'wasm (the page)' },
    results: rows,
  });
  console.log(
    `\nload average ${loadAtStart.map((x) => x.toFixed(1)).join(' ')} at the start, ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} at the end\nwritten ${opts.out}`,
  );
}

export async function benchWeb(opts: WebBenchOptions): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    console.log(`web: ${CHROMIUM} is not installed (apt-get install chromium), skipped`);
    return;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'visemo-bench-web-'));
  const loadAtStart = os.loadavg();
  const rows: WebRow[] = [];
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  try {
    server = await startServer({ port: 0, runsDir: path.join(dir, 'runs') });
    browser = await launchChromium(makeWebcamVideo(dir, Math.max(4, opts.seconds + 4)));
    for (const detector of opts.detectors) {
      const row = await timeDetector(browser, server.url, detector, opts.seconds);
      rows.push(row);
      console.log(`web: --detector ${detector} (${row.videoDetector} on video): ${row.fps.toFixed(1)} fps`);
    }
  } finally {
    try {
      await browser?.close();
    } finally {
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  await reportWeb(opts, rows, loadAtStart);
}
