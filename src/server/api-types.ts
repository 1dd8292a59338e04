/**
 * The JSON the server's API answers with, shared by the server and the page
 * (the page imports these types only, so nothing of Node reaches the browser bundle).
 */
import type { FaceCut } from '../data/face-cut-method.js';

/** GET /api/models: one entry per model the page can load. */
export interface ModelInfo {
  id: string;
  label: string;
  /** Folder URL: model.json, weights.bin and metadata.json are under it. */
  url: string;
  bundled: boolean;
  classes: string[];
  inputSize: number;
  channels: 1 | 3;
  /** The box margin the page cuts faces with. */
  margin: number;
  /** How the model's training faces were cut; the page aligns by landmarks when it says so. */
  faceCut: FaceCut;
}

/** GET /api/runs: one entry per training run or experiment under the runs folder. */
export interface RunEntry {
  /** Path under the runs folder, '/'-separated: the id used in URLs. */
  id: string;
  kind: 'run' | 'experiment';
  /** URL of report.html when the folder has one. */
  report: string | null;
  /** URL of the folder's model (for the page's model menu) when it has model.json. */
  model: string | null;
  classes?: string[];
  inputSize?: number;
  createdAt?: string;
  bestValAcc?: number;
  testAcc?: number;
}
