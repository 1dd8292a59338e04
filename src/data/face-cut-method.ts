/**
 * How a model's training faces were cut (FaceCut), and the margin of the public datasets' tight
 * crops. No imports, so the web page and the API types read it; face-cut.ts finds a dataset's.
 */

export type FaceCut =
  /** A square around the detector's box, `margin` of its longest side on each side. */
  | { method: 'box'; margin: number }
  /** Eyes levelled and framed as FER2013's crops by the 68 landmarks (src/align). */
  | { method: 'landmarks' };

/**
 * The crop margin for faces found by the detector, measured against the public datasets: on
 * FER2013 and CK+ 48×48 crops the SSD detector's box spans the whole crop (margin −0.05 and
 * 0.00, median of 90 images each), so their tight crops correspond to a margin of 0.
 */
export const TIGHT_CROP_MARGIN = 0;
export const TIGHT_CROPS: FaceCut = { method: 'box', margin: TIGHT_CROP_MARGIN };
