/**
 * onnxruntime-node: the runtime outside tfjs that an emotion model can run on (`--backend onnx`),
 * on the graph `visemo export` writes. An optional package, loaded only when a session is opened (it is a 45 MB native
 * library), on its CPU execution provider, with VISEMO_THREADS threads when that is set.
 */
import { firstLine, VisemoError } from '../util/errors.js';
import { isMissingPackage, missingPackageError } from '../util/optional-package.js';

export interface OnnxSession {
  /** onnxruntime-node's version, for reports. */
  readonly version: string;
  /** Runs the graph's one input through it and returns its one output, flat. */
  run(input: Float32Array, dims: readonly number[]): Promise<Float32Array>;
  release(): Promise<void>;
}

type Ort = typeof import('onnxruntime-node');
let ort: Promise<Ort> | null = null;

async function loadOrt(): Promise<Ort> {
  ort ??= import('onnxruntime-node').catch((err: unknown) => {
    ort = null;
    // An optional package (util/optional-package.ts): missing in a default install.
    if (isMissingPackage(err, 'onnxruntime-node')) throw missingPackageError('onnxruntime-node');
    throw new VisemoError(`onnxruntime-node cannot be loaded (${firstLine(err)})`, 'reinstall it: npm install onnxruntime-node');
  });
  return ort;
}

/** A session on a serialised ONNX model (a .onnx file's bytes) with one input and one output. */
export async function openOnnxSession(model: Uint8Array): Promise<OnnxSession> {
  const rt = await loadOrt();
  const threads = Number(process.env.VISEMO_THREADS);
  const session = await rt.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    ...(Number.isInteger(threads) && threads > 0 ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
  });
  if (session.inputNames.length !== 1 || session.outputNames.length !== 1) {
    await session.release();
    throw new Error(`the ONNX model has ${session.inputNames.length} inputs and ${session.outputNames.length} outputs (expected one of each)`);
  }
  const [input] = session.inputNames as [string];
  const [output] = session.outputNames as [string];
  return {
    version: rt.env.versions.node ?? 'unknown',
    async run(x, dims) {
      const result = await session.run({ [input]: new rt.Tensor('float32', x, dims) });
      return result[output]!.data as Float32Array;
    },
    release: () => session.release(),
  };
}
