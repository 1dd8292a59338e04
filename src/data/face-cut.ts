/**
 * How a dataset's faces were cut, and so how a model trained on it must cut faces at inference:
 * a square around the detector's box with a margin, or aligned by landmarks (src/align). Recorded
 * in a run's metadata when it trains; older runs read it from the manifests beside their dataset.
 */
import path from 'node:path';
import { exists, readJsonIfPresent } from '../util/atomic.js';
import { TIGHT_CROPS, type FaceCut } from './face-cut-method.js';

// The type and the tight-crop constants have no Node imports (the page reads them); this file reads manifests.
export type { FaceCut };
export { TIGHT_CROP_MARGIN, TIGHT_CROPS } from './face-cut-method.js';

/** What `visemo align` writes beside an aligned copy of a dataset. */
export const ALIGN_MANIFEST = 'align-manifest.json';
/** What `visemo prepare` writes beside the dataset it makes. */
export const PREPARE_MANIFEST = 'manifest.json';

/**
 * How the faces of the dataset at `data` were cut: aligned when `visemo align` made it (or
 * `prepare --align`), the margin `visemo prepare` recorded, else the tight crops of the public face
 * datasets. A run may train on the folder itself or on one of its splits, so the parent counts too.
 */
export async function datasetFaceCut(data: string | undefined): Promise<{ cut: FaceCut; source: string }> {
  for (const dir of data ? [data, path.join(data, '..')] : []) {
    // Its presence is enough (it lists every image: no need to read it).
    if (await exists(path.join(dir, ALIGN_MANIFEST))) return { cut: { method: 'landmarks' }, source: path.join(dir, ALIGN_MANIFEST) };
    const file = path.join(dir, PREPARE_MANIFEST);
    const m = await readJsonIfPresent<{ tool?: string; options?: { margin?: number; detect?: boolean; align?: boolean } }>(file);
    if (m?.tool !== 'visemo prepare') continue;
    if (m.options?.align) return { cut: { method: 'landmarks' }, source: file };
    if (m.options?.detect === false) continue;
    if (typeof m.options?.margin === 'number') return { cut: { method: 'box', margin: m.options.margin }, source: file };
  }
  return { cut: TIGHT_CROPS, source: 'tight crops (FER2013, CK+)' };
}
