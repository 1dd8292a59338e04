/**
 * A recognition worker thread of `visemo serve` (worker-pool.ts): its own tfjs engine and
 * recognisers, one job at a time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { RecognizerCache, runRecognizeJob, type RecognizeJob, type RecognizeWorkerData } from './recognize-job.js';

const port = parentPort;
if (!port) throw new Error('recognize-worker.ts runs as a worker thread of the server');
const data = workerData as Partial<RecognizeWorkerData> | undefined;
// Read by the native addon when this worker's first recogniser loads it (a worker's env is its own copy).
if (data?.threads) process.env.VISEMO_THREADS = String(data.threads);
const cache = new RecognizerCache(data?.detector, data?.backend);
port.on('message', (msg: { id: number; job: RecognizeJob }) => {
  void runRecognizeJob(cache, msg.job).then((value) => port.postMessage({ id: msg.id, value }));
});
port.postMessage({ ready: true });
