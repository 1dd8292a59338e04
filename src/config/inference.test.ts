// The CLI's help and option defaults, the library's and the server's come from src/config/inference.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command, type Option } from 'commander';
import { INFERENCE_DEFAULTS, SERVER_DEFAULTS } from './inference.js';
import { registerPredict } from '../cli/commands/predict.js';
import { registerServe } from '../cli/commands/serve.js';
import { registerPrepare } from '../cli/commands/prepare.js';
import { detectorSettings } from '../inference/recognizer.js';
import { cropFace } from '../image/crop.js';
import { squareAround } from '../image/geometry.js';
import { DEFAULT_BODY_TIMEOUT_MS, DEFAULT_MAX_PENDING, DEFAULT_MAX_UPLOAD, DEFAULT_PIXEL_BUDGET, DEFAULT_PORT, MAX_DEFAULT_WORKERS } from '../server/server.js';

function command(name: string): Command {
  const program = new Command('visemo');
  registerPredict(program);
  registerServe(program);
  registerPrepare(program);
  const cmd = program.commands.find((c) => c.name() === name);
  assert.ok(cmd, `no ${name} command`);
  return cmd;
}

const option = (cmd: Command, flag: string): Option => {
  const o = cmd.options.find((x) => x.long === flag);
  assert.ok(o, `${cmd.name()} has no ${flag}`);
  return o;
};

test("predict's, prepare's and serve's option defaults and help are the config's", () => {
  const predict = command('predict');
  assert.equal(option(predict, '--min-face-score').defaultValue, INFERENCE_DEFAULTS.minFaceScore);
  assert.equal(option(predict, '--detector').defaultValue, INFERENCE_DEFAULTS.detector);
  assert.equal(option(predict, '--backend').defaultValue, INFERENCE_DEFAULTS.backend);
  assert.equal(option(command('prepare'), '--min-face-score').defaultValue, INFERENCE_DEFAULTS.minFaceScore);
  const help = predict.helpInformation().replace(/\s+/g, ' ');
  assert.match(help, new RegExp(`--min-face-score <p> .*\\(default: ${INFERENCE_DEFAULTS.minFaceScore}\\)`));
  assert.match(help, new RegExp(`--detector <model> .*\\(choices: .*, default: "${INFERENCE_DEFAULTS.detector}"\\)`));
  const serve = command('serve');
  assert.equal(option(serve, '--port').defaultValue, SERVER_DEFAULTS.port);
  assert.equal(option(serve, '--max-upload').defaultValue, SERVER_DEFAULTS.maxUploadBytes);
  assert.equal(option(serve, '--max-pending').defaultValue, SERVER_DEFAULTS.maxPending);
  assert.equal(option(serve, '--decode-budget').defaultValue, SERVER_DEFAULTS.pixelBudget / 1e6);
  assert.equal(option(serve, '--backend').defaultValue, INFERENCE_DEFAULTS.backend);
  assert.match(serve.helpInformation().replace(/\s+/g, ' '), new RegExp(`--port <n> .*\\(default: ${SERVER_DEFAULTS.port}\\)`));
});

test("the server's limits are the config's", () => {
  assert.deepEqual(
    {
      port: DEFAULT_PORT,
      maxUploadBytes: DEFAULT_MAX_UPLOAD,
      pixelBudget: DEFAULT_PIXEL_BUDGET,
      maxPending: DEFAULT_MAX_PENDING,
      maxDefaultWorkers: MAX_DEFAULT_WORKERS,
      bodyTimeoutMs: DEFAULT_BODY_TIMEOUT_MS,
    },
    { ...SERVER_DEFAULTS },
  );
});

test("the library's detector, face score and margin default to the config's", async () => {
  assert.deepEqual(detectorSettings({}), { model: INFERENCE_DEFAULTS.detector, minScore: INFERENCE_DEFAULTS.minFaceScore });
  assert.deepEqual(detectorSettings({ detector: 'tiny', minFaceScore: 0.3 }), { model: 'tiny', minScore: 0.3 });
  const image = { data: new Uint8Array(100 * 100 * 3).fill(128), width: 100, height: 100, channels: 3 as const };
  const box = { x: 30, y: 30, width: 40, height: 40 };
  const { square } = await cropFace(image, box);
  assert.deepEqual(square, squareAround(box, INFERENCE_DEFAULTS.faceMargin));
});
