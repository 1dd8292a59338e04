/** Emotion class names: aliases folded to one spelling, and the paper's six. */
import { VisemoError } from '../util/errors.js';

export const PAPER_CLASSES = ['anger', 'disgust', 'fear', 'happiness', 'sadness', 'surprise'] as const;

const ALIASES: Record<string, string> = {
  happy: 'happiness',
  joy: 'happiness',
  angry: 'anger',
  sad: 'sadness',
  fearful: 'fear',
  afraid: 'fear',
  scared: 'fear',
  disgusted: 'disgust',
  surprised: 'surprise',
  neutrality: 'neutral',
  contemptuous: 'contempt',
};

/** eNTERFACE'05 file codes (s1_an_1.avi) → emotion. */
export const ENTERFACE_CODES: Record<string, string> = {
  an: 'anger',
  di: 'disgust',
  fe: 'fear',
  ha: 'happiness',
  sa: 'sadness',
  su: 'surprise',
};

export function normaliseClassName(name: string): string {
  const key = name.trim().toLowerCase();
  return ALIASES[key] ?? key;
}

/**
 * Parses `--classes`: 'all' (undefined: keep every class found), 'paper' (the six), or a comma list.
 * Returns normalised names, or undefined for 'all'.
 */
export function parseClassOption(option: string | undefined): string[] | undefined {
  if (option === undefined || option === 'all') return undefined;
  if (option === 'paper') return [...PAPER_CLASSES];
  const list = option
    .split(',')
    .map(normaliseClassName)
    .filter((c) => c.length > 0);
  // '' and ',,,' name no class: not 'all' (a full run nobody asked for), and not the folder's fault.
  if (list.length === 0) throw new VisemoError(`--classes '${option}' names no class`, "give 'all', 'paper' or a comma list such as anger,happiness,surprise");
  return [...new Set(list)];
}
