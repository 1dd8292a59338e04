import type { Command } from 'commander';
import { registerSummary } from './summary.js';
import { registerPrepare } from './prepare.js';
import { registerAlign } from './align.js';
import { registerStats } from './stats.js';
import { registerTrain } from './train.js';
import { registerEvaluate } from './evaluate.js';
import { registerCalibrate } from './calibrate.js';
import { registerExperiment } from './experiment.js';
import { registerReport } from './report.js';
import { registerPredict } from './predict.js';
import { registerServe } from './serve.js';
import { registerCompare } from './compare.js';
import { registerAudit } from './audit.js';
import { registerAverage } from './average.js';
import { registerExport } from './export.js';
import { registerQueue } from './queue.js';
import { registerWorker } from './worker.js';
import { registerDoctor } from './doctor.js';

/** Every command, in the order `visemo --help` lists them. Add a line per new command. */
export function registerCommands(program: Command): void {
  registerSummary(program);
  registerPrepare(program);
  registerAlign(program);
  registerStats(program);
  registerTrain(program);
  registerEvaluate(program);
  registerCalibrate(program);
  registerExperiment(program);
  registerReport(program);
  registerPredict(program);
  registerServe(program);
  registerCompare(program);
  registerAudit(program);
  registerAverage(program);
  registerExport(program);
  registerQueue(program);
  registerWorker(program);
  registerDoctor(program);
}
