/**
 * A recognition worker thread of `visemo serve` (worker-pool.ts): its own tfjs engine and
 * recognisers, one job at a time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { DetectorChoice } from '../image/face-detector.js';
import { RecognizerCache, runRecognizeJob, type RecognizeJob } from './recognize-job.js';

const port = parentPort;
if (!port) throw new Error('recognize-worker.ts runs as a worker thread of the server');
const cache = new RecognizerCache((workerData as { detector?: DetectorChoice } | undefined)?.detector);
port.on('message', (msg: { id: number; job: RecognizeJob }) => {
  void runRecognizeJob(cache, msg.job).then((value) => port.postMessage({ id: msg.id, value }));
});
port.postMessage({ ready: true });
