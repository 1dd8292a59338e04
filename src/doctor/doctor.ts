/**
 * `visemo doctor`: what this installation can do and why not, in one place, for a newcomer whose
 * `npm install visemo` printed a line about the native backend, or whose feature names a missing
 * package. It reports the versions, each backend (available, or why not), the CPU features the
 * compute paths depend on (engine/cpu-features.ts), the optional packages and the programs on
 * PATH that some commands run. It only reads and probes: nothing is installed or built.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { backendAvailability, type BackendName } from '../engine/backend.js';
import { CPU_FLAGS, cpuFeatures, type CpuFeatures } from '../engine/cpu-features.js';
import { NATIVE_BUILD_COMMAND } from '../engine/native/addon.js';
import { tf } from '../engine/tf.js';
import { PACKAGE_ROOT } from '../model/run-folder.js';
import { firstLine, userLine } from '../util/errors.js';
import { installCommand, installedVersion, OPTIONAL_PACKAGES, type OptionalPackage } from '../util/optional-package.js';
import { version } from '../version.js';

/** A program some commands run, and what for. */
export interface ToolCheck {
  name: string;
  /** Its path on PATH, or null. */
  path: string | null;
  usedBy: string;
  install: string;
}

export interface DoctorReport {
  versions: { visemo: string; node: string; platform: string; tfjs: string };
  packageRoot: string;
  /** Each backend: null where it runs, else why not. 'onnx' runs the emotion model on onnxruntime-node. */
  backends: Record<BackendName | 'onnx', string | null>;
  optional: { name: OptionalPackage; version: string | null; usedBy: string }[];
  cpu: CpuFeatures;
  tools: ToolCheck[];
}

/** The first executable called one of `names` on PATH, or null. */
export function findOnPath(names: readonly string[], pathVar = process.env.PATH ?? ''): string | null {
  for (const name of names) {
    for (const dir of pathVar.split(path.delimiter).filter(Boolean)) {
      const p = path.join(dir, name);
      try {
        accessSync(p, constants.X_OK);
        return p;
      } catch {
        // not here
      }
    }
  }
  return null;
}

/** Why onnxruntime-node cannot run the emotion model here, or null where it loads. */
async function onnxAvailability(): Promise<string | null> {
  if (installedVersion('onnxruntime-node') === null) return 'onnxruntime-node is not installed (an optional package)';
  try {
    await import('onnxruntime-node');
    return null;
  } catch (err) {
    return `onnxruntime-node does not load (${firstLine(err)}): reinstall it with npm install onnxruntime-node`;
  }
}

export async function doctorReport(): Promise<DoctorReport> {
  let tfjsBackends: Record<BackendName, string | null>;
  try {
    tfjsBackends = await backendAvailability();
  } catch (err) {
    const why = userLine(err);
    tfjsBackends = { native: why, wasm: why, cpu: why };
  }
  const chromium =
    process.env.VISEMO_CHROMIUM && existsSync(process.env.VISEMO_CHROMIUM) ? process.env.VISEMO_CHROMIUM : findOnPath(['chromium', 'chromium-browser']);
  return {
    versions: { visemo: version, node: process.version, platform: `${process.platform} ${process.arch}`, tfjs: tf.version.tfjs },
    packageRoot: PACKAGE_ROOT,
    backends: { ...tfjsBackends, onnx: await onnxAvailability() },
    optional: (Object.keys(OPTIONAL_PACKAGES) as OptionalPackage[]).map((name) => ({ name, version: installedVersion(name), usedBy: OPTIONAL_PACKAGES[name] })),
    cpu: cpuFeatures(),
    tools: [
      { name: 'ffmpeg', path: findOnPath(['ffmpeg']), usedBy: 'videos in predict, prepare and the queue', install: 'apt-get install ffmpeg' },
      { name: 'chromium', path: chromium, usedBy: 'report screenshots and the browser tests', install: 'apt-get install chromium, or set VISEMO_CHROMIUM' },
      {
        name: 'redis-server',
        path: findOnPath(['redis-server']),
        usedBy: "the job queue's server (visemo queue, visemo worker)",
        install: 'apt-get install redis-server',
      },
    ],
  };
}

const yesNo = (x: boolean) => (x ? 'yes' : 'no');

/** The report as the lines `visemo doctor` prints. */
export function formatDoctor(r: DoctorReport): string {
  const lines: string[] = [];
  lines.push(`visemo ${r.versions.visemo} (${r.packageRoot})`);
  lines.push(`node ${r.versions.node} (${r.versions.platform}), TensorFlow.js ${r.versions.tfjs}`);
  lines.push('backends:');
  const order: (BackendName | 'onnx')[] = ['native', 'wasm', 'cpu', 'onnx'];
  for (const name of order) {
    const why = r.backends[name];
    lines.push(`  ${name.padEnd(7)}${why === null ? 'available' : `not available: ${why}`}`);
  }
  const auto = (['native', 'wasm', 'cpu'] as const).find((b) => r.backends[b] === null);
  lines.push(`  --backend auto runs on ${auto ?? 'none of them'}`);
  if (r.backends.native !== null) lines.push(`  to build native: install libdnnl-dev and a C++ compiler, then \`${NATIVE_BUILD_COMMAND}\``);
  lines.push('optional packages:');
  for (const p of r.optional) lines.push(`  ${p.name.padEnd(17)}${p.version ? p.version : `not installed (for ${p.usedBy}: ${installCommand(p.name)})`}`);
  lines.push(`cpu: ${r.cpu.model || 'unknown model'}`);
  if (!r.cpu.known) lines.push(`  features unknown: ${r.cpu.unknownWhy ?? 'not read'}`);
  else lines.push(`  ${CPU_FLAGS.map((f) => `${f} ${yesNo(r.cpu.flags[f])}`).join(', ')}`);
  lines.push('programs:');
  for (const t of r.tools) lines.push(`  ${t.name.padEnd(13)}${t.path ?? `not found (for ${t.usedBy}: ${t.install})`}`);
  return `${lines.join('\n')}\n`;
}
