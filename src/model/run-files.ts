/**
 * The names of the files in a model folder, apart from src/model/run-folder.ts so the web page
 * (which fetches them) can import them without Node's modules.
 */
export const RUN_FILES = {
  model: 'model.json',
  weights: 'weights.bin',
  metadata: 'metadata.json',
  history: 'history.json',
  historyCsv: 'history.csv',
  split: 'split.json',
  checkpoint: 'checkpoint',
  checkpointState: 'state.json',
  modelCard: 'MODEL_CARD.md',
} as const;

/** metrics-test.json, metrics-val.json: what evaluate writes beside the model. */
export const metricsFile = (split: string) => `metrics-${split}.json`;
