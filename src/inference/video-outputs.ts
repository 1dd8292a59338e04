/**
 * The files predict writes for a video: the timeline (JSON, and CSV with one row per face per
 * frame: time, track, box, raw and smoothed scores, label), the summary per track (JSON), and
 * the timeline chart (SVG and PNG). Checked before any work, written atomically.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { renderSvg, svgToPng } from '../chart/render.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { VisemoError } from '../util/errors.js';
import { timelineSpec } from './timeline-chart.js';
import type { VideoAnalysis, VideoOutputFiles } from './video-result.js';

export type { VideoOutputFiles };

export const TIMELINE_FORMAT = 'visemo-video-timeline@1';
export const SUMMARY_FORMAT = 'visemo-video-summary@1';

export function videoOutputPaths(dir: string, name: string): VideoOutputFiles {
  const base = path.join(dir, name);
  return {
    timelineJson: `${base}.timeline.json`,
    timelineCsv: `${base}.timeline.csv`,
    summary: `${base}.summary.json`,
    chartSvg: `${base}.timeline.svg`,
    chartPng: `${base}.timeline.png`,
  };
}

/** Refuses, before any work, to replace an existing output unless `force`. */
export async function checkVideoOutputs(files: VideoOutputFiles, force: boolean): Promise<void> {
  for (const f of Object.values(files)) {
    const stat = await fs.stat(f).catch(() => null);
    if (!stat) continue;
    if (stat.isDirectory()) throw new VisemoError(`${f} is a folder`, 'choose another --out folder');
    if (!force) throw new VisemoError(`${f} already exists`, 'choose another --out folder, or pass --force to replace it');
  }
}

const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
const r3 = (x: number) => Math.round(x * 1e3) / 1e3;

/** One row per face per frame; a frame without a face gets one row with empty face fields. */
export function timelineCsv(a: VideoAnalysis): string {
  const c = a.classes;
  const header = [
    'time',
    'frame',
    'track',
    'x',
    'y',
    'width',
    'height',
    'face_score',
    'source',
    'label',
    'label_p',
    'raw_emotion',
    'raw_p',
    ...c.map((k) => `raw_${k}`),
    ...c.map((k) => `smooth_${k}`),
  ];
  const lines = [header.join(',')];
  for (const frame of a.timeline) {
    const t = frame.time.toFixed(3);
    if (frame.faces.length === 0) lines.push([t, frame.index, ...header.slice(2).map(() => '')].join(','));
    for (const f of frame.faces) {
      lines.push(
        [
          t,
          frame.index,
          f.track,
          f.box.x,
          f.box.y,
          f.box.width,
          f.box.height,
          r4(f.faceScore),
          f.source,
          f.label,
          r4(f.labelConfidence),
          f.emotion,
          r4(f.confidence),
          ...c.map((k) => r4(f.scores[k] ?? 0)),
          ...c.map((k) => r4(f.smoothed[k] ?? 0)),
        ].join(','),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The summary file's content: per track, and over the video. */
export function summaryJson(a: VideoAnalysis, model: string) {
  return {
    format: SUMMARY_FORMAT,
    file: a.file,
    model,
    classes: a.classes,
    width: a.width,
    height: a.height,
    videoFps: a.videoFps,
    sampledFps: a.sampledFps,
    smoothSeconds: a.tracking.smoothSeconds,
    frames: a.timeline.length,
    tracks: a.tracks.map((t) => ({
      ...t,
      seconds: r3(t.seconds),
      shares: Object.fromEntries(Object.entries(t.shares).map(([k, v]) => [k, r4(v)])),
      segments: t.segments.map((s) => ({ ...s, start: r3(s.start), end: r3(s.end) })),
    })),
    overall: a.summary,
    timing: a.timing,
  };
}

export async function writeVideoOutputs(a: VideoAnalysis, files: VideoOutputFiles, model: string): Promise<void> {
  const round = (key: string, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? (key === 'time' ? r3(v) : r4(v)) : v);
  const { outputs: _outputs, ...rest } = a;
  await writeFileAtomic(files.timelineJson, `${JSON.stringify({ format: TIMELINE_FORMAT, model, ...rest }, round)}\n`);
  await writeFileAtomic(files.timelineCsv, timelineCsv(a));
  await writeJsonAtomic(files.summary, summaryJson(a, model));
  const svg = await renderSvg(
    timelineSpec(`${path.basename(a.file)}: emotions over time (smoothed ${a.tracking.smoothSeconds} s; dots: raw)`, a.timeline, a.classes),
  );
  await writeFileAtomic(files.chartSvg, svg);
  await writeFileAtomic(files.chartPng, await svgToPng(svg));
}
