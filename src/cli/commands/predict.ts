/** `visemo predict`: its options and help, and what it writes around runPredict's report (progress, skipped inputs, the summary line, where outputs went). */
import { Option, type Command } from 'commander';
import { runPredict } from '../../inference/predict.js';
import { formatReport, PREDICT_FORMATS, summaryLine, type PredictFormat } from '../../inference/predict-format.js';
import { startProgress, type Progress } from '../../util/progress.js';
import { action } from '../run-action.js';
import { addHelpFooter, EXIT_STATUS_SKIPPING, skippedExit } from '../help.js';
import { addVideoAnalysisOptions, inferenceBackendOption, intOption, secondsOption, type VideoAnalysisCliOptions } from '../options.js';
import { TRACKING_DEFAULTS } from '../../config/tracking.js';
import type { InferenceBackendChoice } from '../../engine/backend.js';
import { INFERENCE_DEFAULTS } from '../../config/inference.js';

interface PredictCliOptions extends VideoAnalysisCliOptions {
  format: PredictFormat;
  annotate?: string;
  force?: boolean;
  out?: string;
  smooth: number;
  detectEvery: number;
  batch: number;
  backend: InferenceBackendChoice;
  crops?: boolean;
}

export function registerPredict(program: Command): void {
  addHelpFooter(predictCommand(program), {
    exit: EXIT_STATUS_SKIPPING,
    examples: [
      'visemo predict photo.jpg',
      'visemo predict photos/ clip.mp4 --format csv > faces.csv',
      'visemo predict clip.mp4 --fps 0 --smooth 0.5s --out clip-analysis/ --annotate annotated/',
      'visemo predict videos/ --fps 10 --out timelines/',
      'visemo predict photos/ --backend onnx',
      'visemo predict ../shared/datasets/fer2013/publictest --crops --format csv > fer.csv',
    ],
  }).action(action(predict));
}

/** The command and its options. */
function predictCommand(program: Command): Command {
  return addVideoAnalysisOptions(
    program
      .command('predict')
      .description('find every face in images, folders and videos and recognise its emotion')
      .argument('<input...>', 'image files, folders (searched recursively) and video files'),
  )
    .addOption(new Option('--format <format>', 'output on stdout').choices(PREDICT_FORMATS).default('table'))
    .option(
      '--annotate <dir>',
      'write copies of the images (and an MP4 per video, with track ids, labels and bars) with boxes and labels into this folder (outside the inputs, empty or new)',
    )
    .option(
      '--out <dir>',
      "write each video's timeline (<name>.timeline.json and .csv: time, track, box, raw and smoothed scores, label), summary (<name>.summary.json: share of time per emotion, dominant emotion and segments, per track) and chart (<name>.timeline.svg and .png, one panel per track) into this folder",
    )
    .option('--force', 'replace annotated copies already in the --annotate folder and outputs already in --out')
    .option(
      '--smooth <seconds>',
      'time constant of the per-track smoothing of video scores, e.g. 0.5s or 500ms (0: off; raw scores are kept in the outputs too)',
      secondsOption('--smooth'),
      TRACKING_DEFAULTS.smoothSeconds,
    )
    .option(
      '--detect-every <n>',
      'run the full-frame face detector on every n-th analysed video frame and follow the faces in between in small windows (1: every frame)',
      intOption('--detect-every', 1),
      TRACKING_DEFAULTS.detectEvery,
    )
    .option('--batch <n>', 'images or frames whose faces go through the model together', intOption('--batch', 1), 16)
    .option(
      '--crops',
      'each image is one face crop (as in a face dataset): classify it whole, without looking for faces (without it, an image shaped like a face crop in which no face is found is taken whole, and the output says so)',
    )
    .addOption(inferenceBackendOption(INFERENCE_DEFAULTS.backend, "compute backend: 'auto' takes the fastest available (native oneDNN, else wasm)"));
}

/** The action: the report on stdout, progress and notes on stderr; the exit status says whether inputs were skipped. */
async function predict(inputs: string[], o: PredictCliOptions): Promise<number> {
  let progress: Progress = { update() {}, stop() {} };
  const report = await runPredict(inputs, {
    model: o.model,
    backend: o.backend,
    detector: o.detector,
    minFaceScore: o.minFaceScore,
    margin: o.margin,
    fps: o.fps,
    out: o.out,
    tracking: { smoothSeconds: o.smooth, detectEvery: o.detectEvery },
    annotate: o.annotate,
    force: o.force,
    batch: o.batch,
    tta: o.tta,
    crops: o.crops,
    onPlan: (total) => (progress = startProgress(total, 'predicting', '{file}')),
    onProgress: (done, file) => progress.update(done, { file }),
    onResult: (r) => {
      if (r.kind === 'error') process.stderr.write(`visemo: skipped ${r.file}: ${r.reason}\n`);
    },
  });
  progress.stop();
  process.stdout.write(formatReport(report, o.format));
  process.stderr.write(
    `${summaryLine(report.stats)} (model ${report.model.name}, ${report.model.inputSize}x${report.model.inputSize}, backend ${report.model.backend}${report.model.runtime === 'onnx' ? `: ${report.model.runtimeLabel}` : ''})\n`,
  );
  if (o.annotate) process.stderr.write(`annotated copies in ${o.annotate}\n`);
  for (const r of report.results)
    if (r.kind === 'video' && r.outputs)
      process.stderr.write(
        `${r.file}: ${r.tracks.length} track${r.tracks.length === 1 ? '' : 's'}, ${r.timing.fps.toFixed(1)} frames/s; written ${r.outputs.timelineJson} (also .csv), ${r.outputs.summary}, ${r.outputs.chartSvg} (also .png)\n`,
      );
  return skippedExit(report.stats.failed);
}
