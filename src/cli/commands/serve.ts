import type { Command } from 'commander';
import { DEFAULT_MAX_UPLOAD, DEFAULT_PORT, startServer } from '../../server/server.js';
import { action } from '../run-action.js';
import { addHelpFooter } from '../help.js';
import type { DetectorChoice } from '../../image/face-detector.js';
import { addServeLoadOptions, backendOption, detectorOption, intOption, type ServeLoadCliOptions } from '../options.js';
import type { BackendChoice } from '../../engine/backend.js';
import { INFERENCE_DEFAULTS } from '../../config/inference.js';

interface ServeOptions extends ServeLoadCliOptions {
  detector: DetectorChoice;
  backend: BackendChoice;
  host: string;
  port: number;
  runs: string;
  maxUpload: number;
  quiet?: boolean;
}

export function registerServe(program: Command): void {
  const cmd = program
    .command('serve')
    .description('the web app: emotions on your webcam, images and videos, recognised in the browser (npm start)')
    .option('--host <address>', 'interface to listen on (127.0.0.1: this machine only)', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0: any free port)', intOption('--port', 0, 65535), DEFAULT_PORT)
    .option('--runs <dir>', 'folder of training runs and experiment reports to list', 'runs')
    .option('--max-upload <bytes>', 'largest image accepted by POST /api/recognize', intOption('--max-upload', 1), DEFAULT_MAX_UPLOAD)
    .addOption(
      detectorOption(
        "the face detector of POST /api/recognize: 'auto' (SSD, as predict on images), 'ssd', 'tiny' or 'blazeface' (about 8x cheaper than SSD, boxes mapped onto SSD's; the page's own menu chooses the page's)",
      ),
    )
    .addOption(backendOption(INFERENCE_DEFAULTS.backend, "compute backend of POST /api/recognize: 'auto' takes native oneDNN where it is built, else wasm"))
    .option('--quiet', 'do not log requests');
  addServeLoadOptions(cmd);
  addHelpFooter(cmd, {
    note: 'POST /api/recognize runs on --workers threads; a request waits while --decode-budget megapixels are decoding, and is answered 503 when --max-pending are in progress.',
    examples: [
      'visemo serve',
      'visemo serve --port 8080 --runs runs',
      'visemo serve --workers 4 --decode-budget 256',
      'visemo serve --detector blazeface   # several times the requests/s, another detector',
    ],
  }).action(
    action(async (o: ServeOptions) => {
      const log = o.quiet ? undefined : (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
      const { url, close, exposed } = await startServer({
        host: o.host,
        port: o.port,
        runsDir: o.runs,
        maxUploadBytes: o.maxUpload,
        log,
        workers: o.workers,
        pixelBudget: o.decodeBudget * 1_000_000,
        maxPending: o.maxPending,
        detector: o.detector,
        backend: o.backend,
      });
      process.stdout.write(
        `visemo web app at ${url} (runs from ${o.runs}/; ${o.workers ? `${o.workers} recognition worker${o.workers > 1 ? 's' : ''}` : 'recognition in the server thread'}; Ctrl+C to stop)\n`,
      );
      if (exposed) {
        process.stderr.write(
          `visemo: WARNING: listening on ${o.host}, not only on this machine: anyone who can reach it can use the models and read the runs under ${o.runs}/\n`,
        );
      }
      if (o.host !== '127.0.0.1' && o.host !== 'localhost') {
        process.stdout.write('note: browsers only give webcam access on http://127.0.0.1 or localhost (or over https)\n');
      }
      await new Promise<void>((resolve) => {
        const stop = () => void close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    }),
  );
}
