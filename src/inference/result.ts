/**
 * The one result type: what the recogniser, predict, the HTTP API and the web page give for each
 * face (as @vladmandic/human keeps one result.ts). Types only, so the page can import it.
 */
import type { FaceBox } from '../image/geometry.js';

export interface RecognizedFace {
  /** Where the face is, in pixels of the image as given (after EXIF rotation). */
  box: FaceBox;
  /** The detector's confidence that this is a face, 0–1 (1 when detection was skipped: --crops; 0 for a whole-image fallback). */
  faceScore: number;
  /** The most probable emotion. */
  emotion: string;
  /** Its probability. */
  confidence: number;
  /** Probability per emotion, in the model's class order. */
  scores: Record<string, number>;
  /**
   * How the face was cut: 'detected' (a detector's box), 'crop' (the image is one face, used whole:
   * --crops), or 'whole-image' (no face was found in an image shaped like a face crop, so the whole
   * image was taken as the face; see looksLikeFaceCrop). Absent in results made before this field.
   */
  cut?: 'detected' | 'crop' | 'whole-image';
}
