/**
 * The face detectors and how a choice picks one. No imports: the web page shares it.
 *
 * `ssd`: face-api's SSD MobileNet v1 (most accurate, slowest); `tiny`: its Tiny Face Detector;
 * `blazeface`: @vladmandic/human's BlazeFace (about 8x cheaper than SSD, boxes mapped onto SSD's).
 */
export type DetectorModel = 'ssd' | 'tiny' | 'blazeface';
export const DETECTOR_MODELS: DetectorModel[] = ['ssd', 'tiny', 'blazeface'];
/** What users choose: a model, or 'auto' (see detectorFor). */
export type DetectorChoice = DetectorModel | 'auto';
export const DETECTOR_CHOICES: DetectorChoice[] = ['auto', ...DETECTOR_MODELS];

/** The detector a choice runs on whole images or on video frames: 'auto' is SSD on images, where accuracy counts, and BlazeFace on video frames, between which tracking follows the faces. */
export function detectorFor(choice: DetectorChoice, on: 'image' | 'video'): DetectorModel {
  return choice !== 'auto' ? choice : on === 'image' ? 'ssd' : 'blazeface';
}
