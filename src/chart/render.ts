/**
 * Charts: Vega-Lite specifications compiled and rendered to SVG in Node by Vega's headless
 * renderer, and copied to PNG by sharp (librsvg). The experiment report and predict's video
 * timelines draw their figures through these two functions and this one look.
 */
import sharp from 'sharp';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';

/** Installed on Debian by fonts-dejavu-core; librsvg falls back to any sans font when absent. */
export const CHART_FONT = 'DejaVu Sans, Liberation Sans, sans-serif';

export const CHART_CONFIG = {
  font: CHART_FONT,
  background: 'white',
  view: { stroke: '#ccc' },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' as const },
};

/** Compiles a Vega-Lite spec and renders it to an SVG string without a browser. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** A PNG copy of an SVG at twice its size, for Markdown and READMEs. */
export async function svgToPng(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg), { density: 144 }).png().toBuffer();
}
