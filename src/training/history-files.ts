/** A run's history.json and history.csv, rewritten after every epoch. */
import os from 'node:os';
import path from 'node:path';
import type { History } from '../model/run-folder.js';
import { RUN_FILES } from '../model/run-files.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';

export async function writeHistory(runDir: string, history: History): Promise<void> {
  await writeJsonAtomic(path.join(runDir, RUN_FILES.history), history);
  const rows = history.epochs.map((e) => [e.epoch, e.loss, e.acc, e.valLoss, e.valAcc, e.seconds, e.msPerStep].join(','));
  await writeFileAtomic(path.join(runDir, RUN_FILES.historyCsv), ['epoch,loss,acc,val_loss,val_acc,seconds,ms_per_step', ...rows].join(os.EOL) + os.EOL);
}
