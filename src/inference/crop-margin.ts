/** How a model's training faces were cut, so inference cuts faces the same way. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { RunMetadata } from '../model/run-folder.js';

/**
 * The crop margin for faces found by the detector, measured against the public datasets: on
 * FER2013 and CK+ 48×48 crops the SSD detector's box spans the whole crop (margin −0.05 and
 * 0.00, median of 90 images each), so their tight crops correspond to a margin of 0.
 */
export const TIGHT_CROP_MARGIN = 0;

/**
 * The margin a model's training faces were cut with: what `visemo prepare` recorded in the
 * dataset's manifest.json when the model was trained on a prepared folder, else the tight crops
 * of the public face datasets.
 */
export async function cropMarginFor(metadata: RunMetadata): Promise<{ margin: number; source: string }> {
  const data = metadata.dataset?.path;
  // The run may have been trained on the prepared folder itself or on one of its splits.
  const candidates = data ? [path.join(data, 'manifest.json'), path.join(data, '..', 'manifest.json')] : [];
  for (const file of candidates) {
    try {
      const m = JSON.parse(await fs.readFile(file, 'utf8')) as { tool?: string; options?: { margin?: number; detect?: boolean } };
      if (m.tool === 'visemo prepare' && m.options?.detect !== false && typeof m.options?.margin === 'number') {
        return { margin: m.options.margin, source: file };
      }
    } catch {
      // no manifest: not a prepared dataset (or not on this machine)
    }
  }
  return { margin: TIGHT_CROP_MARGIN, source: 'tight crops (FER2013, CK+)' };
}
