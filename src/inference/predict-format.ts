/** The three output formats of `visemo predict`: a terminal table, JSON, and CSV (one row per face). */
import { formatTable, pct } from '../util/table.js';
import type { FailedInput, ImageResult, PredictReport, PredictStats, VideoResult } from './predict.js';
import type { RecognizedFace } from './result.js';

export type PredictFormat = 'table' | 'json' | 'csv';
export const PREDICT_FORMATS: PredictFormat[] = ['table', 'json', 'csv'];

const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;
const boxText = (f: RecognizedFace) => `${f.box.x},${f.box.y} ${f.box.width}x${f.box.height}`;

/** JSON with probabilities rounded to 4 decimals (plenty, and readable). */
export function formatJson(report: PredictReport): string {
  return JSON.stringify(
    report,
    (key, value: unknown) => (typeof value === 'number' && !Number.isInteger(value) ? round(value, key === 'time' ? 3 : 4) : value),
    2,
  );
}

function faceRow(file: string, frame: string, i: number, f: RecognizedFace, classes: string[]): (string | number)[] {
  return [file, frame, i + 1, boxText(f), f.emotion, pct(f.confidence, 1), ...classes.map((c) => (f.scores[c] ?? 0).toFixed(3))];
}

/** Human-readable: one table of faces, a per-frame timeline and summary per video, then problems. */
export function formatTextTable(report: PredictReport): string {
  const classes = report.model.classes;
  const header = ['input', 'frame', 'face', 'box (x,y wxh)', 'emotion', 'p', ...classes.map((c) => c.slice(0, 5))];
  const blocks: string[] = [];
  const notes: string[] = [];
  const images = report.results.filter((r): r is ImageResult => r.kind === 'image');
  if (images.length > 0) {
    const rows: (string | number)[][] = [];
    for (const r of images) {
      if (r.faces.length === 0) rows.push([r.file, '', '-', 'no face found', '', '', ...classes.map(() => '')]);
      r.faces.forEach((f, i) => rows.push(faceRow(r.file, '', i, f, classes)));
    }
    const whole = images.filter((r) => r.faces.some((f) => f.cut === 'whole-image')).length;
    if (whole > 0)
      notes.push(
        `${whole} image${whole === 1 ? '' : 's'} with no face found but shaped like a face crop: the whole image was taken as the face (box = the image; give --crops for crops, or crop photos less tightly)`,
      );
    // The frame column only matters for videos: images print without it.
    blocks.push(
      formatTable(
        [header[0]!, ...header.slice(2)],
        rows.map((row) => [row[0]!, ...row.slice(2)]),
      ),
    );
  }
  for (const v of report.results.filter((r): r is VideoResult => r.kind === 'video')) {
    const rows: (string | number)[][] = [];
    for (const frame of v.timeline) {
      const t = `${frame.time.toFixed(2)}s`;
      if (frame.faces.length === 0) rows.push([v.file, t, '-', 'no face found', '', '', ...classes.map(() => '')]);
      // In a video the face column is the track id: the same number for the same person throughout.
      frame.faces.forEach((f) => rows.push(faceRow(v.file, t, f.track - 1, f, classes)));
    }
    blocks.push(`${v.file}: ${v.width}x${v.height}, ${v.timeline.length} frames sampled at ${v.sampledFps} fps\n${formatTable(header, rows)}`);
    blocks.push(videoSummaryText(v));
  }
  blocks.push(...notes);
  const failed = report.results.filter((r): r is FailedInput => r.kind === 'error');
  if (failed.length > 0) blocks.push(['skipped:', ...failed.map((f) => `  ${f.file}: ${f.reason}`)].join('\n'));
  return blocks.join('\n\n');
}

export function videoSummaryText(v: VideoResult): string {
  const s = v.summary;
  const shares = Object.entries(s.shares)
    .filter(([, x]) => x > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([c, x]) => `${c} ${pct(x, 0)}`)
    .join(', ');
  const tracks = v.tracks.map(
    (t) =>
      `  face ${t.track}: ${t.seconds.toFixed(1)} s from ${t.firstTime.toFixed(2)} s, dominant ${t.dominant} (${pct(t.shares[t.dominant] ?? 0, 0)}), ${t.segments.length} segment${t.segments.length === 1 ? '' : 's'}`,
  );
  return [
    `${v.file}: ${s.framesWithFaces}/${s.frames} frames with a face, ${v.tracks.length} track${v.tracks.length === 1 ? '' : 's'}; ${s.dominant ? `dominant emotion ${s.dominant} (${shares})` : 'no face in any frame'}`,
    ...tracks,
  ].join('\n');
}

const csvCell = (v: string | number) => {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** One row per face (and one per image or frame without a face, its face fields empty); `cut` says how the face was cut (RecognizedFace.cut). */
export function formatCsv(report: PredictReport): string {
  const classes = report.model.classes;
  const lines = [
    ['file', 'kind', 'time', 'face', 'x', 'y', 'width', 'height', 'face_score', 'emotion', 'confidence', ...classes.map((c) => `p_${c}`), 'error', 'cut'].join(
      ',',
    ),
  ];
  const push = (cells: (string | number)[]) => lines.push(cells.map(csvCell).join(','));
  const faces = (file: string, kind: string, time: string, list: RecognizedFace[]) => {
    if (list.length === 0) push([file, kind, time, 0, '', '', '', '', '', '', '', ...classes.map(() => ''), '', '']);
    list.forEach((f, i) =>
      push([
        file,
        kind,
        time,
        'track' in f ? (f as { track: number }).track : i + 1,
        f.box.x,
        f.box.y,
        f.box.width,
        f.box.height,
        round(f.faceScore),
        f.emotion,
        round(f.confidence),
        ...classes.map((c) => round(f.scores[c] ?? 0)),
        '',
        f.cut ?? (kind === 'video' ? 'detected' : ''),
      ]),
    );
  };
  for (const r of report.results) {
    if (r.kind === 'image') faces(r.file, 'image', '', r.faces);
    else if (r.kind === 'video') for (const frame of r.timeline) faces(r.file, 'video', frame.time.toFixed(3), frame.faces);
    else push([r.file, 'error', '', '', '', '', '', '', '', '', '', ...classes.map(() => ''), r.reason, '']);
  }
  return `${lines.join('\n')}\n`;
}

export function formatReport(report: PredictReport, format: PredictFormat): string {
  if (format === 'json') return `${formatJson(report)}\n`;
  if (format === 'csv') return formatCsv(report);
  return `${formatTextTable(report)}\n`;
}

/** The closing line: counts and throughput. */
export function summaryLine(s: PredictStats): string {
  const parts = [`${s.images} image${s.images === 1 ? '' : 's'}`];
  if (s.videos > 0) parts.push(`${s.videos} video${s.videos === 1 ? '' : 's'} (${s.frames} frames)`);
  parts.push(`${s.faces} face${s.faces === 1 ? '' : 's'}`);
  if (s.failed > 0) parts.push(`${s.failed} skipped`);
  return `${parts.join(', ')} in ${s.seconds.toFixed(1)} s: ${s.facesPerSecond.toFixed(1)} faces/s end to end, ${s.modelFacesPerSecond.toFixed(0)} faces/s through the model`;
}
