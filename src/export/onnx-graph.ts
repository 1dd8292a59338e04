/**
 * A tfjs LayersModel as an ONNX graph, layer by layer: the layers the paper's CNN and the visemo net
 * are made of (Conv2D, MaxPooling2D, BatchNormalization, Dropout, Flatten, GlobalAveragePooling2D,
 * Dense, and the activations they use), in inference form. Anything else is refused by name.
 *
 * tfjs computes in NHWC, ONNX's Conv and pooling in NCHW: the graph takes NCHW input, kernels are
 * transposed once here, and Flatten first puts the values back in NHWC order, so a Dense layer
 * after it keeps its trained weights unchanged.
 */
import type { onnx } from 'onnx-proto';
import type { tf } from '../engine/tf.js';
import { VisemoError } from '../util/errors.js';

export const INPUT_NAME = 'input';
export const OUTPUT_NAME = 'probabilities';

/** The graph's nodes and weights, and the input's shape [channels, height, width] (batch not counted). */
export interface GraphParts {
  nodes: onnx.INodeProto[];
  initializers: onnx.ITensorProto[];
  inputShape: [number, number, number];
  outputSize: number;
}

const FLOAT = 1; // onnx.TensorProto.DataType.FLOAT
const ATTR = { FLOAT: 1, INT: 2, INTS: 7 } as const; // onnx.AttributeProto.AttributeType

type Attr = number | number[] | { float: number };

function attribute(name: string, value: Attr): onnx.IAttributeProto {
  if (Array.isArray(value)) return { name, type: ATTR.INTS, ints: value };
  if (typeof value === 'number') return { name, type: ATTR.INT, i: value };
  return { name, type: ATTR.FLOAT, f: value.float };
}

/** ONNX names of Keras activations (softmax over the last axis, as Keras and opset 13 both mean it). */
const ACTIVATIONS: Record<string, string | null> = { linear: null, relu: 'Relu', softmax: 'Softmax', sigmoid: 'Sigmoid', tanh: 'Tanh' };

class Builder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  /** The value the next node reads, and its shape without the batch: [C, H, W] or [features]. */
  current = INPUT_NAME;

  constructor(public shape: number[]) {}

  node(op: string, name: string, extraInputs: string[] = [], attrs: Record<string, Attr> = {}): void {
    const output = `${name}/${op.toLowerCase()}`;
    this.nodes.push({
      opType: op,
      name: output,
      input: [this.current, ...extraInputs],
      output: [output],
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    this.current = output;
  }

  weight(name: string, data: Float32Array, dims: number[]): string {
    this.initializers.push({ name, dataType: FLOAT, dims, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return name;
  }

  activation(layer: string, name: unknown): void {
    const key = String(name ?? 'linear');
    if (!(key in ACTIVATIONS)) throw unsupported(layer, `activation '${key}'`);
    const op = ACTIVATIONS[key];
    if (op) this.node(op, layer);
  }
}

function unsupported(layer: string, what: string): VisemoError {
  return new VisemoError(
    `cannot export layer ${layer} to ONNX: ${what} is not supported`,
    'the exporter covers the layers of the paper and visemo architectures (Conv2D, MaxPooling2D, BatchNormalization, Dropout, Flatten, GlobalAveragePooling2D, Dense)',
  );
}

/**
 * A layer's weights by their Keras names (kernel, bias, gamma, beta, moving_mean, moving_variance),
 * as float32. getWeights() hands out the model's own variables: they are read, never disposed.
 */
function weightsOf(layer: tf.layers.Layer): Map<string, { data: Float32Array; shape: number[] }> {
  const out = new Map<string, { data: Float32Array; shape: number[] }>();
  const values = layer.getWeights();
  layer.weights.forEach((w, i) => {
    const t = values[i]!;
    out.set(w.originalName.split('/').pop()!, { data: t.dataSync() as Float32Array, shape: t.shape });
  });
  return out;
}

/** A tfjs convolution kernel [kh, kw, in, out] in ONNX's order [out, in, kh, kw]. */
function toOihw(k: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(k.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++) for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + y) * kw + x] = k[((y * kw + x) * cin + i) * cout + o]!;
  return out;
}

/** TensorFlow's padding of one spatial axis as [begin, end]: 'same' pads so that out = ceil(in / stride), the odd pixel at the end. */
export function tfPadding(padding: string, size: number, kernel: number, stride: number, dilation = 1): [number, number] {
  if (padding === 'valid') return [0, 0];
  const out = Math.ceil(size / stride);
  const total = Math.max(0, (out - 1) * stride + (kernel - 1) * dilation + 1 - size);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

function spatialAttrs(
  layer: string,
  c: { padding?: string; strides?: number[]; dataFormat?: string },
  kernel: number[],
  [h, w]: number[],
  dilation = [1, 1],
): Record<string, Attr> {
  if (c.dataFormat && c.dataFormat !== 'channelsLast') throw unsupported(layer, `data format ${c.dataFormat}`);
  if (c.padding !== 'same' && c.padding !== 'valid') throw unsupported(layer, `padding '${String(c.padding)}'`);
  const strides = c.strides ?? kernel;
  const [top, bottom] = tfPadding(c.padding, h!, kernel[0]!, strides[0]!, dilation[0]);
  const [left, right] = tfPadding(c.padding, w!, kernel[1]!, strides[1]!, dilation[1]);
  return { kernel_shape: kernel, strides, pads: [top, left, bottom, right] };
}

const pair = (v: number | number[] | undefined, fallback: number): number[] => (v === undefined ? [fallback, fallback] : Array.isArray(v) ? v : [v, v]);

/** A layer's Keras config (getConfig() is untyped: each handler reads the fields its kind has). */
type LayerConfig = Record<string, unknown> & { padding?: string; strides?: number[]; dataFormat?: string };
type LayerWeights = ReturnType<typeof weightsOf>;
/** Appends one layer's nodes (and weights) to the graph and updates its shape. */
type LayerNodes = (g: Builder, layer: tf.layers.Layer, c: LayerConfig, w: LayerWeights) => void;

function conv2d(g: Builder, layer: tf.layers.Layer, c: LayerConfig, w: LayerWeights): void {
  const name = layer.name;
  if (g.shape.length !== 3) throw unsupported(name, 'Conv2D on a flat input');
  const kernel = w.get('kernel')!;
  const [kh, kw, cin, cout] = kernel.shape as [number, number, number, number];
  const dilation = pair(c.dilationRate as number | number[] | undefined, 1);
  const attrs = spatialAttrs(name, c, [kh, kw], g.shape.slice(1), dilation);
  const inputs = [g.weight(`${name}/kernel`, toOihw(kernel.data, kh, kw, cin, cout), [cout, cin, kh, kw])];
  const bias = w.get('bias');
  if (bias) inputs.push(g.weight(`${name}/bias`, bias.data, [cout]));
  g.node('Conv', name, inputs, { ...attrs, dilations: dilation, group: 1 });
  const [, oh, ow] = layer.outputShape as number[];
  g.shape = [cout, oh!, ow!];
  g.activation(name, c.activation);
}

function maxPooling2d(g: Builder, layer: tf.layers.Layer, c: LayerConfig): void {
  const name = layer.name;
  if (g.shape.length !== 3) throw unsupported(name, 'pooling on a flat input');
  const pool = pair(c.poolSize as number | number[] | undefined, 2);
  g.node('MaxPool', name, [], spatialAttrs(name, { ...c, strides: c.strides ?? pool }, pool, g.shape.slice(1)));
  const [, oh, ow] = layer.outputShape as number[];
  g.shape = [g.shape[0]!, oh!, ow!];
}

function batchNormalization(g: Builder, layer: tf.layers.Layer, c: LayerConfig, w: LayerWeights): void {
  const name = layer.name;
  const axis = c.axis as number;
  if (axis !== -1 && axis !== g.shape.length) throw unsupported(name, `normalisation over axis ${axis} (only the channel axis)`);
  const n = g.shape[0]!;
  const get = (key: string, fill: number) => w.get(key)?.data ?? new Float32Array(n).fill(fill);
  const inputs = [
    g.weight(`${name}/gamma`, get('gamma', 1), [n]),
    g.weight(`${name}/beta`, get('beta', 0), [n]),
    g.weight(`${name}/moving_mean`, get('moving_mean', 0), [n]),
    g.weight(`${name}/moving_variance`, get('moving_variance', 1), [n]),
  ];
  g.node('BatchNormalization', name, inputs, { epsilon: { float: c.epsilon as number } });
}

function flatten(g: Builder, layer: tf.layers.Layer): void {
  // Keras flattens NHWC: the values go back to that order before Flatten.
  if (g.shape.length === 3 && g.shape[1]! * g.shape[2]! > 1) g.node('Transpose', layer.name, [], { perm: [0, 2, 3, 1] });
  g.node('Flatten', layer.name, [], { axis: 1 });
  g.shape = [g.shape.reduce((a, b) => a * b, 1)];
}

function globalAveragePooling2d(g: Builder, layer: tf.layers.Layer, c: LayerConfig): void {
  const name = layer.name;
  if (g.shape.length !== 3) throw unsupported(name, 'pooling on a flat input');
  if (c.dataFormat && c.dataFormat !== 'channelsLast') throw unsupported(name, `data format ${String(c.dataFormat)}`);
  g.node('GlobalAveragePool', name);
  g.node('Flatten', name, [], { axis: 1 });
  g.shape = [g.shape[0]!];
}

function dense(g: Builder, layer: tf.layers.Layer, c: LayerConfig, w: LayerWeights): void {
  const name = layer.name;
  if (g.shape.length !== 1) throw unsupported(name, 'Dense on an unflattened input');
  const kernel = w.get('kernel')!;
  const [fin, fout] = kernel.shape as [number, number];
  const inputs = [g.weight(`${name}/kernel`, kernel.data, [fin, fout])];
  const bias = w.get('bias');
  if (bias) inputs.push(g.weight(`${name}/bias`, bias.data, [fout]));
  g.node('Gemm', name, inputs);
  g.shape = [fout];
  g.activation(name, c.activation);
}

/** The layer kinds the exporter covers, by their tfjs class name; any other is refused by name. */
const LAYER_NODES: Record<string, LayerNodes> = {
  InputLayer: () => {},
  Dropout: () => {}, // identity at inference
  Conv2D: conv2d,
  MaxPooling2D: maxPooling2d,
  BatchNormalization: batchNormalization,
  Flatten: flatten,
  GlobalAveragePooling2D: globalAveragePooling2d,
  Dense: dense,
};

/** The model's layers as ONNX nodes and initializers (opset 13). The model must be a plain chain of layers with one input. */
export function graphOfModel(model: tf.LayersModel): GraphParts {
  if (model.inputs.length !== 1 || model.outputs.length !== 1)
    throw new VisemoError(
      `model ${model.name} has ${model.inputs.length} inputs and ${model.outputs.length} outputs`,
      'only single-input, single-output models can be exported',
    );
  const inShape = model.inputs[0]!.shape;
  if (inShape.length !== 4)
    throw new VisemoError(
      `model ${model.name} takes input of shape [${inShape.join(', ')}]`,
      'only image models ([batch, height, width, channels]) can be exported',
    );
  const [, height, width, channels] = inShape as [null, number, number, number];
  const g = new Builder([channels, height, width]);
  for (const layer of model.layers) {
    if (layer.inboundNodes.some((n) => n.inboundLayers.length > 1)) throw unsupported(layer.name, 'a layer with several inputs');
    const kind = layer.getClassName();
    const c = layer.getConfig() as LayerConfig;
    const w = weightsOf(layer);
    const nodes = Object.hasOwn(LAYER_NODES, kind) ? LAYER_NODES[kind] : undefined;
    if (!nodes) throw unsupported(layer.name, `layer type ${kind}`);
    nodes(g, layer, c, w);
  }
  if (g.shape.length !== 1)
    throw new VisemoError(`model ${model.name} ends in a ${g.shape.length}-D output`, 'only classifiers (one vector per image) can be exported');
  const last = g.nodes[g.nodes.length - 1];
  if (!last) throw new VisemoError(`model ${model.name} has no layers to export`);
  last.output = [OUTPUT_NAME];
  return { nodes: g.nodes, initializers: g.initializers, inputShape: [channels, height, width], outputSize: g.shape[0]! };
}
