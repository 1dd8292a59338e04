/**
 * The PyTorch reference of the train and predict timings: bench/pytorch_ref.py on the same models,
 * sizes, steps and thread count, run as the user's environment would run it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Arch } from '../src/config/recipe.js';
import type { Precision } from '../src/engine/precision.js';
import { median, type TrainTimes } from './train-rows.js';
import type { PredictTimes } from './predict.js';
import type { Options } from './timing-setup.js';
import { channelsOf, classesOf } from './predict-model.js';

const PYTHON = '/usr/bin/python3';
// PyTorch starts from the environment the user started the bench with: the native backend sets
// OMP_WAIT_POLICY=passive for itself, and that must not decide how the reference runs.
export const USER_ENV = { ...process.env };

/** PyTorch's raw step times per size for one architecture and thread count. */
export interface TorchRun {
  torch: string;
  results: ({ size: number } & (TrainTimes | PredictTimes))[];
}

/** PyTorch in `precision`: fp32, or bf16 autocast with channels-last (bench/pytorch_ref.py), as PyTorch is run for bf16 on CPUs. */
export function runPytorch(mode: 'train' | 'predict', arch: Arch, sizes: number[], threads: number, opts: Options, precision: Precision): TorchRun | string {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  // OpenMP's default busy-waiting makes PyTorch many times slower as soon as anything else uses
  // a core, and passive waiting costs it a little on an idle machine: unless the user chose a
  // policy, time both and keep the faster per size, so the reference is PyTorch at its best.
  const envs = USER_ENV.OMP_WAIT_POLICY ? [USER_ENV] : [USER_ENV, { ...USER_ENV, OMP_WAIT_POLICY: 'passive' }];
  const runs: TorchRun[] = [];
  for (const env of envs) {
    const r = runPytorchOnce(mode, arch, sizes, threads, opts, env, precision);
    if (typeof r === 'string') return r;
    runs.push(r);
  }
  const cost = (x: TrainTimes | PredictTimes) =>
    'modelMs' in x ? median(x.modelMs.map((m, i) => m + x.dataMs[i]!)) : median(x.batch1) + median(x.batch64) / 64;
  const results = runs[0]!.results.map((first, i) => runs.map((r) => r.results[i]!).reduce((a, b) => (cost(b) < cost(a) ? b : a), first));
  return { torch: runs[0]!.torch, results };
}

function runPytorchOnce(
  mode: 'train' | 'predict',
  arch: Arch,
  sizes: number[],
  threads: number,
  opts: Options,
  env: NodeJS.ProcessEnv,
  precision: Precision,
): TorchRun | string {
  const script = new URL('./pytorch_ref.py', import.meta.url).pathname;
  const args = [
    script,
    mode,
    '--precision',
    precision,
    '--arch',
    arch,
    '--channels',
    String(channelsOf(arch, opts)),
    '--classes',
    String(classesOf(opts)),
    '--width',
    String(opts.width ?? 1),
    '--sizes',
    sizes.join(','),
    '--steps',
    String(opts.steps),
    '--warmup',
    String(opts.warmup),
    '--batch',
    String(opts.batch),
    '--threads',
    String(threads),
  ];
  const r = spawnSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 1 << 24, env });
  if (r.status !== 0) {
    const last = (r.stderr || '').trim().split('\n').pop() ?? '';
    // The script imports numpy before torch; python3-torch brings both.
    return /No module named '(torch|numpy)'/.test(r.stderr)
      ? 'python3-torch is not installed (bash scripts/setup.sh --bench installs it)'
      : `the PyTorch reference failed: ${last}`;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as TorchRun;
}
