/**
 * visemo as a library, `import { EmotionRecognizer } from 'visemo'`: emotion recognition in images
 * and videos, and its types. The tooling has entry points of its own, so that recognising does not
 * load it: 'visemo/train' (prepare, train, experiment, average), 'visemo/evaluate' (evaluate,
 * compare, audit), 'visemo/export' (ONNX), 'visemo/server' (the web app's server) and 'visemo/queue'
 * (the job queue, which needs bullmq).
 */
export { EmotionRecognizer } from './inference/recognizer.js';
export type { RecognizerOptions, RecognizeOptions } from './inference/recognizer.js';
export type { RecognizedFace } from './inference/result.js';
export type { ImageInput } from './image/decode.js';
export type { FaceBox, RawImage } from './image/geometry.js';
export { resolveModel, DEFAULT_MODEL, BUNDLED_MODELS, type ResolvedModel, type RunMetadata } from './model/run-folder.js';
export type { Arch } from './config/recipe.js';
export { runPredict } from './inference/predict.js';
export type { PredictOptions, PredictReport, InputResult, ImageResult, VideoResult, FailedInput } from './inference/predict.js';
export { analyseVideo, analyseVideoFile } from './inference/video-analysis.js';
export type { VideoAnalysisOptions, VideoFileOptions } from './inference/video-analysis.js';
export type { VideoAnalysis, TrackedFace, TrackedFrame, VideoTiming, VideoOutputFiles } from './inference/video-result.js';
export { FaceTracker, type Track, type Detection } from './tracking/tracker.js';
export { FaceFollower, type FollowedFace, type FrameDetectors } from './tracking/follower.js';
export { ScoreSmoother, TrackSmoothers } from './tracking/smoother.js';
export { TRACKING_DEFAULTS, type TrackingConfig } from './config/tracking.js';
export { INFERENCE_DEFAULTS, type InferenceConfig } from './config/inference.js';
export { useBackend } from './engine/backend.js';
export type { BackendChoice, InferenceBackendChoice } from './engine/backend.js';
