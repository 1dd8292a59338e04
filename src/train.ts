/** `import { trainRun } from 'visemo/train'`: make a face dataset, train a model on it, run the paper's experiment, average models. */
export { prepare } from './prepare/prepare.js';
export type { PrepareOptions, PrepareSummary } from './prepare/prepare.js';
export { trainRun } from './training/train.js';
export type { TrainOptions, TrainResult } from './training/train.js';
export { buildModel } from './model/architectures.js';
export { buildPaperCnn } from './model/paper-cnn.js';
export type { Arch } from './config/recipe.js';
export { runExperiment } from './experiment/run-experiment.js';
export type { ExperimentOptions } from './experiment/run-experiment.js';
export { averageModels } from './model/average.js';
export type { AverageOptions, AverageResult } from './model/average.js';
