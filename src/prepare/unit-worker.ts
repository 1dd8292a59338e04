/** Worker-thread side of the prepare pool: processes the units it is sent, one at a time. */
import { parentPort, workerData } from 'node:worker_threads';
import { processUnit, type ProcessOptions, type UnitTask } from './process-unit.js';

const { opts, outRoot } = workerData as { opts: ProcessOptions; outRoot: string };
parentPort!.on('message', async (task: UnitTask) => {
  parentPort!.postMessage(await processUnit(task, opts, outRoot));
});
