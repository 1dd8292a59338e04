/** visemo as a library: `import { EmotionRecognizer } from 'visemo'`. A thin list of the public API. */
export { EmotionRecognizer } from './inference/recognizer.js';
export type { RecognizedFace, RecognizerOptions, RecognizeOptions, ImageInput, FaceBox, RawImage } from './inference/recognizer.js';
export { resolveModel, DEFAULT_MODEL, BUNDLED_MODELS } from './inference/models.js';
export type { ResolvedModel } from './inference/models.js';
export { runPredict } from './inference/predict.js';
export type { PredictOptions, PredictReport, InputResult, ImageResult, VideoResult, FailedInput } from './inference/predict.js';
export { startServer } from './server/server.js';
export type { ServerOptions, RunningServer } from './server/server.js';
export { trainRun } from './training/train.js';
export type { TrainOptions, TrainResult } from './training/train.js';
export { evaluateRun } from './evaluation/evaluate.js';
export type { EvaluateOptions } from './evaluation/evaluate.js';
export type { Metrics } from './evaluation/types.js';
export type { RunMetadata } from './training/types.js';
export { buildPaperCnn } from './model/paper-cnn.js';
export { useBackend } from './engine/backend.js';
export type { BackendChoice } from './engine/backend.js';
