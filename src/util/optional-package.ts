/**
 * visemo's optional packages: onnxruntime-node (`--backend onnx`, `visemo export`) and bullmq
 * (`visemo queue`, `visemo worker`). They are optional peer dependencies, so a default install
 * leaves them out (onnxruntime-node's install script downloads CUDA libraries; bullmq brings a
 * Redis client), and a feature that needs one imports it when it runs. A missing one is a
 * VisemoError naming the package to install, not a stack trace from the module loader.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { VisemoError } from './errors.js';

/** Each optional package, and what needs it (for messages). */
export const OPTIONAL_PACKAGES = {
  'onnxruntime-node': "'--backend onnx' and 'visemo export'",
  bullmq: "'visemo queue' and 'visemo worker'",
} as const;
export type OptionalPackage = keyof typeof OPTIONAL_PACKAGES;

/**
 * How to install one. onnxruntime-node's own install script downloads CUDA libraries from
 * nuget.org (and fails offline); its CPU library, all visemo uses, is in the npm package itself.
 */
export function installCommand(name: OptionalPackage): string {
  return name === 'onnxruntime-node'
    ? 'npm install onnxruntime-node (offline, or to skip its CUDA download: ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node)'
    : `npm install ${name}`;
}

/** The error for a feature whose optional package is not installed. */
export function missingPackageError(name: OptionalPackage): VisemoError {
  return new VisemoError(`${name} is not installed: ${OPTIONAL_PACKAGES[name]} need it`, `install it beside visemo: ${installCommand(name)}`);
}

/** Whether `err` is the module loader failing to find the package `name` (not some file inside it). */
export function isMissingPackage(err: unknown, name: string): boolean {
  const e = err as NodeJS.ErrnoException | null;
  return (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && typeof e.message === 'string' && e.message.includes(`'${name}'`);
}

/**
 * Runs `load` (an import of the package, or of a visemo module that imports it) and turns the
 * package's absence into missingPackageError. Any other failure is passed on as it is.
 */
export async function importOptional<T>(name: OptionalPackage, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (isMissingPackage(err, name)) throw missingPackageError(name);
    throw err;
  }
}

const require = createRequire(import.meta.url);

/**
 * The installed version of a package as visemo would load it (the node_modules folders Node
 * searches from here), or null where it is not installed. Reads its package.json, so it works
 * for packages whose `exports` hide that file, and loads nothing.
 */
export function installedVersion(name: string): string | null {
  for (const dir of require.resolve.paths(name) ?? []) {
    const file = path.join(dir, name, 'package.json');
    if (!existsSync(file)) continue;
    try {
      return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? 'unknown';
    } catch {
      return 'unknown';
    }
  }
  return null;
}
