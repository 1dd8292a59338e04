/**
 * A visemo model as an ONNX file (`visemo export --format onnx`, and `--backend onnx` in memory):
 * the graph of onnx-graph.ts at opset 13, IR version 7 (ONNX 1.8; read by onnxruntime 1.6 and
 * later), encoded with the ONNX protobuf schema of the onnx-proto package. Its metadata_props say
 * how to feed it as visemo does: classes, input size, channels, layout, normalisation, face cut.
 */
import onnxProto from 'onnx-proto';
import { FER_GEOMETRY } from '../align/geometry.js';
import type { FaceCut } from '../data/face-cut.js';
import type { tf } from '../engine/tf.js';
import type { RunMetadata } from '../model/run-folder.js';
import { VisemoError } from '../util/errors.js';
import { version } from '../version.js';
import { graphOfModel, INPUT_NAME, OUTPUT_NAME } from './onnx-graph.js';

const { onnx } = onnxProto;

export const ONNX_OPSET = 13;
export const ONNX_IR_VERSION = 7;
/** metadata_props' `format`: what wrote the file, and the version of these keys. */
export const ONNX_FORMAT = 'visemo-onnx@1';

/** The metadata_props keys, each a string (JSON where a value is a list or an object). */
export interface OnnxMetadata {
  format: typeof ONNX_FORMAT;
  /** The model's name (bundled name or run folder) and architecture. */
  model: string;
  arch: string;
  /** JSON list, in the order of the output's probabilities. */
  classes: string;
  /** Height and width of the input, in pixels. */
  input_size: string;
  channels: string;
  /** 'NCHW': [batch, channels, height, width]. */
  input_layout: string;
  /** JSON {"mean": [...], "std": [...]} per channel, on pixels scaled to 0–1: x = (p / 255 − mean) / std. */
  normalisation: string;
  /** JSON: {"method":"box","margin":m} or {"method":"landmarks"} (see `preprocessing`). */
  face_cut: string;
  /** The whole preprocessing in words. */
  preprocessing: string;
  /**
   * JSON list of class-prior offsets (visemo calibrate), present when the model has them: the graph
   * gives the uncalibrated probabilities p, and visemo reports p_k·exp(offset_k), renormalised.
   */
  calibration_offsets?: string;
}

const DETECTOR = "SSD MobileNet v1 as shipped in @vladmandic/face-api (visemo's default detector)";

/** How a face is cut, in words (src/image/geometry.ts squareAround, src/align). */
export function describeFaceCut(cut: FaceCut): string {
  if (cut.method === 'landmarks') {
    return (
      "aligned by face-api.js's 68 landmarks: turned so the eyes are level, and cut as the square that puts the eye midpoint at " +
      `(0.5, ${FER_GEOMETRY.eyeY}) of its side, the eyes ${FER_GEOMETRY.interOcular} of the side apart and the mouth ${FER_GEOMETRY.eyeToMouth} below the eye line (as FER2013's crops)`
    );
  }
  return `the square centred on the face detector's box (${DETECTOR}), side = the box's longest side × (1 + 2 × ${cut.margin}), edge pixels repeated where it leaves the image`;
}

export function onnxMetadata(name: string, meta: RunMetadata): OnnxMetadata {
  const { inputSize: s, channels, normalisation } = meta;
  return {
    format: ONNX_FORMAT,
    model: name,
    arch: meta.arch,
    classes: JSON.stringify(meta.classes),
    input_size: String(s),
    channels: String(channels),
    input_layout: 'NCHW',
    normalisation: JSON.stringify({ mean: normalisation.mean, std: normalisation.std }),
    face_cut: JSON.stringify(meta.faceCut),
    preprocessing:
      `Face: ${describeFaceCut(meta.faceCut)}. Pixels: alpha flattened onto black, monochrome, resized to ${s}x${s} without keeping the aspect ratio (lanczos3), ` +
      `x = (p / 255 - mean) / std with the normalisation above, the same value in each of the ${channels} channel${channels > 1 ? 's' : ''}, laid out NCHW as float32. ` +
      `Output '${OUTPUT_NAME}': softmax probabilities in the order of 'classes'` +
      (meta.calibration ? `, before calibration: visemo multiplies them by exp(calibration_offsets) and renormalises.` : '.'),
    ...(meta.calibration ? { calibration_offsets: JSON.stringify(meta.calibration.offsets) } : {}),
  };
}

/** The model, with its metadata, as the bytes of an .onnx file. */
export function modelToOnnx(model: tf.LayersModel, name: string, meta: RunMetadata): Uint8Array {
  const g = graphOfModel(model);
  const [c, h, w] = g.inputShape;
  if (c !== meta.channels || h !== meta.inputSize || w !== meta.inputSize || g.outputSize !== meta.classes.length) {
    throw new VisemoError(
      `model ${name} takes ${h}x${w}x${c} input and gives ${g.outputSize} outputs, its metadata says ${meta.inputSize}x${meta.inputSize}x${meta.channels} and ${meta.classes.length} classes`,
      'the model folder is inconsistent: train it again',
    );
  }
  const tensorType = (dims: (number | string)[]) => ({
    tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } },
  });
  const proto = onnx.ModelProto.create({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'visemo',
    producerVersion: version,
    docString: `visemo emotion model '${name}' (${meta.arch}): ${meta.classes.length} classes (${meta.classes.join(', ')}), ${h}x${w}x${c} input. See metadata_props.`,
    graph: {
      name: model.name,
      node: g.nodes,
      initializer: g.initializers,
      input: [{ name: INPUT_NAME, type: tensorType(['batch', c, h, w]) }],
      output: [{ name: OUTPUT_NAME, type: tensorType(['batch', g.outputSize]) }],
    },
    metadataProps: Object.entries(onnxMetadata(name, meta)).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(proto).finish();
}

/** What an .onnx file says of itself: opset, IR version and metadata_props (for checks and tests). */
export function describeOnnx(bytes: Uint8Array): { irVersion: number; opset: number; metadata: Record<string, string>; inputDims: (number | string)[] } {
  const m = onnx.ModelProto.decode(bytes);
  const dims = m.graph?.input?.[0]?.type?.tensorType?.shape?.dim ?? [];
  return {
    irVersion: Number(m.irVersion),
    opset: Number(m.opsetImport.find((o) => !o.domain)?.version ?? 0),
    metadata: Object.fromEntries(m.metadataProps.map((p) => [p.key ?? '', p.value ?? ''])),
    inputDims: dims.map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue))),
  };
}
