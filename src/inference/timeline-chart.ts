/**
 * The timeline chart of a video: the smoothed probability of each emotion over time, one panel
 * per track, in the emotions' colours (the raw scores as faint dots behind). Vega-Lite, rendered
 * by src/chart like the experiment report's figures.
 */
import type { TopLevelSpec } from 'vega-lite';
import { CHART_CONFIG } from '../chart/render.js';
import { colourFor } from './colours.js';
import type { TrackedFrame } from './video-result.js';

export function timelineSpec(title: string, timeline: TrackedFrame[], classes: string[]): TopLevelSpec {
  const values: { track: string; time: number; emotion: string; smoothed: number; raw: number }[] = [];
  for (const frame of timeline) {
    for (const f of frame.faces) {
      for (const c of classes) values.push({ track: `face ${f.track}`, time: frame.time, emotion: c, smoothed: f.smoothed[c] ?? 0, raw: f.scores[c] ?? 0 });
    }
  }
  const tracks = [...new Set(timeline.flatMap((fr) => fr.faces.map((f) => f.track)))].sort((a, b) => a - b).map((t) => `face ${t}`);
  const colour = {
    field: 'emotion',
    type: 'nominal' as const,
    title: 'emotion',
    scale: { domain: classes, range: classes.map(colourFor) },
    legend: { symbolOpacity: 1 },
  };
  const x = { field: 'time', type: 'quantitative' as const, title: 'time (s)' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values },
    facet: { row: { field: 'track', type: 'nominal', title: null, sort: tracks, header: { labelAngle: 0, labelAlign: 'left', labelFontSize: 12 } } },
    spec: {
      width: 640,
      height: 120,
      layer: [
        {
          mark: { type: 'point', size: 6, opacity: 0.25, filled: true },
          encoding: { x, y: { field: 'raw', type: 'quantitative', title: 'probability', scale: { domain: [0, 1] } }, color: colour },
        },
        {
          mark: { type: 'line', strokeWidth: 1.6 },
          encoding: { x, y: { field: 'smoothed', type: 'quantitative', title: 'probability', scale: { domain: [0, 1] } }, color: colour },
        },
      ],
    },
    config: CHART_CONFIG,
  } as TopLevelSpec;
}
