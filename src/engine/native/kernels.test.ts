/**
 * Every kernel of the native backend against the CPU backend's reference implementation, on
 * random inputs of varied shapes: relative error (max-norm) under 1e-4, and no silent fallback
 * to the reference kernel. Skipped only when the addon is not built.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { useBackend } from '../backend.js';
import { tf } from '../tf.js';
import { ADAM_KERNEL, DROPOUT_KERNEL, RELU_GRAD_BIAS_KERNEL, RELU_GRAD_KERNEL } from './kernels-training.js';
import { BATCH_NORM_GRAD_KERNEL, BATCH_NORM_TRAIN_KERNEL } from './kernels-batchnorm.js';
import { loadAddon, type NativeAddon } from './addon.js';
import { fallbackCounts, registerNativeBackend } from './register.js';
import { createRng } from '../../util/random.js';

const unavailable = await registerNativeBackend();
const skip = unavailable ?? false;
const TOLERANCE = 1e-4;

const rng = createRng(20220906);
function randomValues(shape: number[], lo = -1, hi = 1): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rng());
}

interface Input {
  shape: number[];
  values: Float32Array;
}
const input = (shape: number[], lo?: number, hi?: number): Input => ({ shape, values: randomValues(shape, lo, hi) });

/** Runs one kernel on a backend with fresh tensors made from the same values. */
async function runOn(
  backend: 'native' | 'cpu',
  kernel: string,
  inputs: Record<string, Input>,
  attrs: object,
): Promise<{ shape: number[]; values: Float32Array }> {
  await useBackend(backend, { quiet: true });
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, t] of Object.entries(inputs)) tensors[name] = tf.tensor(t.values, t.shape, 'float32');
  const out = tf.engine().runKernel(kernel, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
  const result = { shape: out.shape, values: Float32Array.from(await out.data()) };
  tf.dispose([out, ...Object.values(tensors)]);
  return result;
}

function relativeError(actual: Float32Array, expected: Float32Array): number {
  let diff = 0;
  let scale = 0;
  assert.equal(actual.length, expected.length, 'as many values as the reference');
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return diff / Math.max(scale, 1e-30);
}

/** Asserts the native kernel matches the reference and really ran natively. */
async function check(kernel: string, inputs: Record<string, Input>, attrs: object): Promise<number> {
  assert.notEqual(tf.getKernel(kernel, 'native')?.kernelFunc, tf.getKernel(kernel, 'cpu')?.kernelFunc, `${kernel} is not a native kernel`);
  const before = fallbackCounts().get(kernel) ?? 0;
  const native = await runOn('native', kernel, inputs, attrs);
  assert.equal(fallbackCounts().get(kernel) ?? 0, before, `${kernel} fell back to the CPU kernel for ${JSON.stringify(attrs)}`);
  const reference = await runOn('cpu', kernel, inputs, attrs);
  assert.deepEqual(native.shape, reference.shape, `${kernel} output shape`);
  assert.ok(
    reference.values.some((v) => v !== 0),
    `${kernel}: reference output is all zeros, the case tests nothing`,
  );
  const err = relativeError(native.values, reference.values);
  assert.ok(err < TOLERANCE, `${kernel} ${JSON.stringify(attrs)}: relative error ${err.toExponential(2)}`);
  return err;
}

interface ConvCase {
  x: number[];
  filter: number[];
  strides: number | [number, number];
  pad: 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
  dilations: number | [number, number];
}
const CONV_CASES: ConvCase[] = [
  { x: [2, 9, 9, 3], filter: [3, 3, 3, 8], strides: 1, pad: 'same', dilations: 1 },
  { x: [3, 10, 7, 5], filter: [5, 3, 5, 4], strides: 2, pad: 'valid', dilations: 1 },
  { x: [1, 12, 11, 4], filter: [3, 3, 4, 6], strides: [2, 1], pad: 'same', dilations: 1 },
  { x: [2, 8, 8, 6], filter: [1, 1, 6, 16], strides: 1, pad: 'valid', dilations: 1 },
  {
    x: [2, 7, 9, 2],
    filter: [3, 2, 2, 5],
    strides: 1,
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
    dilations: 1,
  },
  { x: [4, 6, 6, 32], filter: [3, 3, 32, 64], strides: 1, pad: 'same', dilations: 1 },
];

describe('native backend kernels match the CPU backend', { skip }, () => {
  before(async () => {
    await useBackend('native', { quiet: true });
  });

  test('Conv2D over strides, paddings and a dilation', async () => {
    for (const c of CONV_CASES) {
      await check('Conv2D', { x: input(c.x), filter: input(c.filter) }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: c.dilations });
    }
    await check('Conv2D', { x: input([2, 11, 11, 3]), filter: input([3, 3, 3, 4]) }, { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 2 });
  });

  test('FusedConv2D with bias and relu, and without', async () => {
    for (const c of CONV_CASES) {
      const oc = c.filter[3]!; // HWIO: the output channels
      const base = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: c.dilations };
      await check('FusedConv2D', { x: input(c.x), filter: input(c.filter), bias: input([oc]) }, { ...base, activation: 'relu' });
      await check('FusedConv2D', { x: input(c.x), filter: input(c.filter) }, { ...base, activation: 'linear' });
    }
  });

  test('Conv2DBackpropInput', async () => {
    for (const c of CONV_CASES) {
      const info = tf.backend_util.computeConv2DInfo(
        c.x as [number, number, number, number],
        c.filter as [number, number, number, number],
        c.strides,
        1,
        c.pad,
      );
      await check(
        'Conv2DBackpropInput',
        { dy: input(info.outShape), filter: input(c.filter) },
        { inputShape: c.x, strides: c.strides, pad: c.pad, dataFormat: 'NHWC' },
      );
    }
  });

  test('Conv2DBackpropFilter', async () => {
    for (const c of CONV_CASES) {
      const info = tf.backend_util.computeConv2DInfo(
        c.x as [number, number, number, number],
        c.filter as [number, number, number, number],
        c.strides,
        1,
        c.pad,
      );
      await check(
        'Conv2DBackpropFilter',
        { x: input(c.x), dy: input(info.outShape) },
        { filterShape: c.filter, strides: c.strides, pad: c.pad, dataFormat: 'NHWC' },
      );
    }
  });

  test('DepthwiseConv2dNative (SSD MobileNet shapes, a multiplier, strides and paddings)', async () => {
    const cases = [
      { x: [1, 16, 16, 32], filter: [3, 3, 32, 1], strides: 1, pad: 'same' },
      { x: [1, 17, 15, 64], filter: [3, 3, 64, 1], strides: 2, pad: 'same' },
      { x: [2, 9, 9, 6], filter: [3, 3, 6, 2], strides: 1, pad: 'valid' },
      {
        x: [1, 12, 10, 5],
        filter: [5, 3, 5, 1],
        strides: [2, 1],
        pad: [
          [0, 0],
          [1, 2],
          [0, 1],
          [0, 0],
        ],
      },
    ] as const;
    for (const c of cases)
      await check(
        'DepthwiseConv2dNative',
        { x: input([...c.x]), filter: input([...c.filter]) },
        { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: 1 },
      );
  });

  test('ResizeBilinear up and down, with alignCorners and halfPixelCenters', async () => {
    for (const [alignCorners, halfPixelCenters] of [
      [false, false],
      [true, false],
      [false, true],
    ]) {
      await check('ResizeBilinear', { images: input([1, 40, 64, 3], 0, 255) }, { size: [51, 51], alignCorners, halfPixelCenters });
      await check('ResizeBilinear', { images: input([2, 7, 5, 4]) }, { size: [16, 13], alignCorners, halfPixelCenters });
    }
  });

  test('PadV2 over ranks 1 to 4, with a constant', async () => {
    await check(
      'PadV2',
      { x: input([1, 207, 207, 16]) },
      {
        paddings: [
          [0, 0],
          [0, 2],
          [0, 2],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
    await check(
      'PadV2',
      { x: input([400, 64, 3]) },
      {
        paddings: [
          [0, 240],
          [0, 0],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
    await check(
      'PadV2',
      { x: input([1, 8, 8, 24]) },
      {
        paddings: [
          [0, 0],
          [0, 0],
          [0, 0],
          [0, 24],
        ],
        constantValue: 0,
      },
    );
    await check(
      'PadV2',
      { x: input([5, 7]) },
      {
        paddings: [
          [1, 2],
          [3, 0],
        ],
        constantValue: 0.5,
      },
    );
    await check('PadV2', { x: input([9]) }, { paddings: [[4, 1]], constantValue: -2 });
  });

  test('Slice: strided rows over ranks 2 to 4 (SSD box scores), and contiguous runs as views', async () => {
    await check('Slice', { x: input([1, 5118, 3]) }, { begin: [0, 0, 1], size: [1, 5118, 2] });
    await check('Slice', { x: input([1, 5118, 2]) }, { begin: [0, 0, 0], size: [1, 5118, 1] });
    await check('Slice', { x: input([3, 7, 6, 5]) }, { begin: [1, 2, 0, 1], size: [2, 4, 6, 3] });
    await check('Slice', { x: input([9, 8]) }, { begin: [2, 3], size: [5, -1] });
    await check('Slice', { x: input([4, 6, 5]) }, { begin: [1, 0, 0], size: [2, 6, 5] }); // contiguous
    await check('Slice', { x: input([50]) }, { begin: [7], size: [20] });
  });

  test('a float32 tensor cast from int32 (sharing its int buffer) still runs natively', async () => {
    await useBackend('native', { quiet: true });
    const before = fallbackCounts().get('PadV2') ?? 0;
    const ints = tf.tensor3d(
      Int32Array.from({ length: 2 * 3 * 3 }, (_, i) => i * 7),
      [2, 3, 3],
      'int32',
    );
    const padded = tf.pad(tf.cast(ints, 'float32'), [
      [0, 1],
      [0, 0],
      [0, 0],
    ]);
    assert.equal(fallbackCounts().get('PadV2') ?? 0, before, 'PadV2 fell back to the CPU kernel');
    assert.deepEqual([...(await padded.data())], [...Array.from({ length: 18 }, (_, i) => i * 7), ...new Array<number>(9).fill(0)]);
    tf.dispose([ints, padded]);
  });

  test('ClipByValue (relu6), NaN passing through', async () => {
    await check('ClipByValue', { x: input([2, 33, 33, 8], -3, 9) }, { clipValueMin: 0, clipValueMax: 6 });
    await check('ClipByValue', { x: input([300], -1, 1) }, { clipValueMin: -0.25, clipValueMax: 0.5 });
    const withNaN = { shape: [4], values: Float32Array.from([NaN, -7, 3, 8]) };
    const native = await runOn('native', 'ClipByValue', { x: withNaN }, { clipValueMin: 0, clipValueMax: 6 });
    assert.deepEqual([...native.values], [NaN, 0, 3, 6]);
  });

  test('BatchMatMul with transposes, batches and a broadcast batch', async () => {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ]) {
      const a = ta ? [7, 5] : [5, 7];
      const b = tb ? [3, 7] : [7, 3];
      await check('BatchMatMul', { a: input(a), b: input(b) }, { transposeA: ta, transposeB: tb });
      await check('BatchMatMul', { a: input([4, ...a]), b: input([4, ...b]) }, { transposeA: ta, transposeB: tb });
    }
    await check('BatchMatMul', { a: input([1, 5, 6]), b: input([3, 6, 2]) }, { transposeA: false, transposeB: false });
    await check('BatchMatMul', { a: input([32, 4608]), b: input([4608, 256]) }, { transposeA: false, transposeB: false });
  });

  test('_FusedMatMul with bias and relu', async () => {
    await check(
      '_FusedMatMul',
      { a: input([1, 32, 300]), b: input([1, 300, 64]), bias: input([64]) },
      { transposeA: false, transposeB: false, activation: 'relu' },
    );
    await check(
      '_FusedMatMul',
      { a: input([1, 300, 9]), b: input([1, 17, 300]), bias: input([17]) },
      { transposeA: true, transposeB: true, activation: 'linear' },
    );
  });

  const POOLS = [
    { x: [2, 8, 8, 3], filterSize: 2, strides: 2, pad: 'valid' },
    { x: [3, 9, 7, 5], filterSize: 3, strides: 2, pad: 'same' },
    { x: [1, 6, 6, 4], filterSize: [3, 2], strides: 1, pad: 'valid' },
    { x: [32, 25, 25, 64], filterSize: 2, strides: 2, pad: 'valid' },
  ] as const;

  test('MaxPool', async () => {
    for (const p of POOLS) await check('MaxPool', { x: input([...p.x]) }, { filterSize: p.filterSize, strides: p.strides, pad: p.pad });
  });

  test('MaxPool 2x2 never takes a NaN as the maximum, as tfjs does', async () => {
    const x = input([2, 8, 8, 16]);
    for (const i of [0, 16 * 9 + 3, 1000, 1001, 2047]) x.values[i] = NaN;
    await check('MaxPool', { x }, { filterSize: 2, strides: 2, pad: 'valid' });
  });

  test('MaxPoolGrad', async () => {
    for (const p of POOLS) {
      const x = input([...p.x]);
      const info = tf.backend_util.computePool2DInfo(p.x as unknown as [number, number, number, number], p.filterSize as number, p.strides, 1, p.pad);
      const output = await runOn('cpu', 'MaxPool', { x }, { filterSize: p.filterSize, strides: p.strides, pad: p.pad });
      await check('MaxPoolGrad', { dy: input(info.outShape), input: x, output }, { filterSize: p.filterSize, strides: p.strides, pad: p.pad });
      // After a relu most windows hold ties at 0: the gradient must go to the first maximum, as in tfjs.
      const relued = { shape: x.shape, values: x.values.map((v) => Math.max(v, 0)) };
      const out2 = await runOn('cpu', 'MaxPool', { x: relued }, { filterSize: p.filterSize, strides: p.strides, pad: p.pad });
      await check('MaxPoolGrad', { dy: input(info.outShape), input: relued, output: out2 }, { filterSize: p.filterSize, strides: p.strides, pad: p.pad });
    }
  });

  test('binary element-wise ops: same shape, scalar and bias broadcasts', async () => {
    const shapes: [number[], number[]][] = [
      [
        [4, 5, 6],
        [4, 5, 6],
      ],
      [[300, 400], []],
      [[], [7, 3]],
      [[2, 5, 5, 8], [8]],
      [[8], [3, 4, 8]],
      [
        [3, 4, 8],
        [4, 8],
      ],
      [
        [64, 32, 32],
        [64, 32, 32],
      ],
    ];
    for (const kernel of ['Add', 'Sub', 'Multiply', 'RealDiv', 'Maximum', 'Minimum']) {
      for (const [sa, sb] of shapes) {
        // Divisors kept away from zero so the relative error measures the kernel, not the data.
        await check(kernel, { a: input(sa), b: kernel === 'RealDiv' ? input(sb, 0.5, 2) : input(sb) }, {});
      }
    }
  });

  test('binary element-wise ops with any other broadcast (global pooling gradients, outer products)', async () => {
    const shapes: [number[], number[]][] = [
      [
        [32, 1, 1, 192],
        [32, 3, 3, 192],
      ],
      [
        [4, 6, 6, 8],
        [4, 1, 1, 8],
      ],
      [
        [3, 1],
        [1, 5],
      ],
      [
        [2, 1, 4],
        [3, 1],
      ],
      [
        [5, 1, 7],
        [5, 6, 1],
      ],
      [
        [40, 1, 30, 1],
        [1, 50, 1, 20],
      ],
    ];
    for (const kernel of ['Add', 'Sub', 'Multiply', 'RealDiv', 'Maximum', 'Minimum']) {
      for (const [sa, sb] of shapes) await check(kernel, { a: input(sa), b: kernel === 'RealDiv' ? input(sb, 0.5, 2) : input(sb) }, {});
    }
  });

  test('unary element-wise ops', async () => {
    for (const shape of [[5, 7], [70000]]) {
      for (const kernel of ['Relu', 'Floor', 'Square', 'Neg', 'Exp', 'Abs']) await check(kernel, { x: input(shape, -3, 3) }, {});
      for (const kernel of ['Sqrt', 'Log']) await check(kernel, { x: input(shape, 0.1, 4) }, {});
      await check('Step', { x: input(shape) }, { alpha: 0 });
      await check('Step', { x: input(shape) }, { alpha: 0.25 });
    }
  });

  test('Sum over leading, trailing, middle and all axes', async () => {
    const cases: [number[], number | number[], boolean][] = [
      [[32, 10, 10, 64], [0, 1, 2], false],
      [[6, 7], -1, true],
      [[4, 5, 6], 1, false],
      [[3, 4, 5], [0, 1, 2], false],
      [[100000], 0, true],
      [[2, 3, 4, 5], [1, 2], true],
    ];
    for (const [shape, axis, keepDims] of cases) await check('Sum', { x: input(shape) }, { axis, keepDims });
  });

  test('Mean over leading, trailing and all axes (batch norm statistics)', async () => {
    const cases: [number[], number | number[] | null, boolean][] = [
      [[32, 12, 12, 64], [0, 1, 2], true],
      [[6, 7], -1, false],
      [[3, 4, 5], null, false],
      [[2, 3, 4, 5], [1, 2], true],
    ];
    for (const [shape, axis, keepDims] of cases) await check('Mean', { x: input(shape) }, { axis, keepDims });
  });

  test('Tile that repeats the whole input ([1,1,1,C] → [N,H,W,C] in batch norm gradients)', async () => {
    const cases: [number[], number[]][] = [
      [
        [1, 1, 1, 64],
        [32, 12, 12, 1],
      ],
      [
        [1, 5],
        [7, 1],
      ],
      [
        [1, 1, 3],
        [2, 5, 1],
      ],
      [[4], [3]],
      [
        [5, 4],
        [3, 1],
      ],
    ];
    for (const [shape, reps] of cases) await check('Tile', { x: input(shape) }, { reps });
  });

  test('Tile of other shapes hands over to the CPU kernel and still matches', async () => {
    const x = input([2, 3]);
    const native = await runOn('native', 'Tile', { x }, { reps: [2, 2] });
    const reference = await runOn('cpu', 'Tile', { x }, { reps: [2, 2] });
    assert.deepEqual(native.values, reference.values);
  });
});

// Training runs the convolutions on oneDNN's blocked layouts (prepareForTraining); channel counts
// below 8 stay NHWC, others are padded to the block, so both and an odd count are here.
const BLOCKED_CASES: ConvCase[] = [
  ...CONV_CASES,
  { x: [2, 9, 9, 8], filter: [3, 3, 8, 16], strides: 1, pad: 'same', dilations: 1 },
  { x: [3, 10, 7, 12], filter: [3, 3, 12, 20], strides: 2, pad: 'valid', dilations: 1 },
  { x: [2, 12, 12, 32], filter: [3, 3, 32, 32], strides: 1, pad: 'same', dilations: 1 },
];

describe('native convolutions and their gradients on blocked activation layouts match the CPU backend', { skip }, () => {
  test('FusedConv2D, Conv2DBackpropInput and Conv2DBackpropFilter', async () => {
    await useBackend('native', { quiet: true });
    const addon = loadAddon() as NativeAddon;
    const built = addon.info().primitives;
    addon.setBlockedActivations(true);
    try {
      for (const c of BLOCKED_CASES) {
        const oc = c.filter[3]!; // HWIO: the output channels
        const base = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC' };
        await check('FusedConv2D', { x: input(c.x), filter: input(c.filter), bias: input([oc]) }, { ...base, dilations: c.dilations, activation: 'relu' });
        const info = tf.backend_util.computeConv2DInfo(
          c.x as [number, number, number, number],
          c.filter as [number, number, number, number],
          c.strides,
          1,
          c.pad,
        );
        await check('Conv2DBackpropInput', { dy: input(info.outShape), filter: input(c.filter) }, { ...base, inputShape: c.x });
        await check('Conv2DBackpropFilter', { x: input(c.x), dy: input(info.outShape) }, { ...base, filterShape: c.filter });
      }
    } finally {
      addon.setBlockedActivations(false);
    }
    // Blocked primitives are cached apart from the NHWC ones: these ran on primitives of their own.
    assert.ok(addon.info().primitives >= built + 3 * 3, 'the blocked cases built their own primitives');
  });
});

describe('fused training kernels of the native backend', { skip }, () => {
  test(`${RELU_GRAD_KERNEL} equals tfjs' relu gradient dy * step(x)`, async () => {
    const dy = input([3, 7, 9, 16]);
    const x = input([3, 7, 9, 16]);
    const grad = async (backend: 'native' | 'cpu') => {
      await useBackend(backend, { quiet: true });
      const xt = tf.tensor(x.values, x.shape);
      const dyt = tf.tensor(dy.values, dy.shape);
      const g = tf.grad((t: tf.Tensor) => tf.mul(tf.relu(t), dyt))(xt);
      const { kernels } = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.mul(tf.relu(t), dyt))(xt));
      const values = Float32Array.from(await g.data());
      tf.dispose([xt, dyt, g]);
      return { values, kernels: kernels.map((k) => k.name) };
    };
    const native = await grad('native');
    const reference = await grad('cpu');
    assert.ok(native.kernels.includes(RELU_GRAD_KERNEL), `native relu gradient ran ${native.kernels.join(', ')}`);
    assert.ok(!reference.kernels.includes(RELU_GRAD_KERNEL), "the cpu backend keeps tfjs' own relu gradient");
    assert.deepEqual(native.values, reference.values);
  });

  test(`${ADAM_KERNEL}: three Adam steps update weights as tfjs' Adam does`, async () => {
    const shapes = [[300, 257], [7], [3, 3, 4, 8]];
    const init = shapes.map((s) => input(s));
    const grads = [0, 1, 2].map(() => shapes.map((s) => input(s)));
    const train = async (backend: 'native' | 'cpu') => {
      await useBackend(backend, { quiet: true });
      const vars = init.map((v, i) => tf.variable(tf.tensor(v.values, v.shape), true, `adam_test_${backend}_${i}`));
      const opt = tf.train.adam(0.01);
      const kernels = new Set<string>();
      for (const step of grads) {
        const named = Object.fromEntries(vars.map((v, i) => [v.name, tf.tensor(step[i]!.values, step[i]!.shape)])); // a gradient per variable
        const { kernels: ran } = await tf.profile(() => opt.applyGradients(vars.map((v) => ({ name: v.name, tensor: named[v.name]! }))));
        ran.forEach((k) => kernels.add(k.name));
        tf.dispose(Object.values(named));
      }
      const values = await Promise.all(vars.map(async (v) => Float32Array.from(await v.data())));
      opt.dispose();
      tf.dispose(vars);
      return { values, kernels };
    };
    const native = await train('native');
    const reference = await train('cpu');
    assert.ok(native.kernels.has(ADAM_KERNEL), 'the native backend used the fused Adam kernel');
    assert.ok(!reference.kernels.has(ADAM_KERNEL), "the cpu backend kept tfjs' own Adam");
    native.values.forEach((v, i) => {
      const err = relativeError(v, reference.values[i]!); // both trained the same variables
      assert.ok(err < TOLERANCE, `variable ${i}: relative error ${err.toExponential(2)}`);
    });
  });

  test(`tfjs-layers dropout on the native backend runs as ${DROPOUT_KERNEL}, and its gradient is the same mask`, async () => {
    await useBackend('native', { quiet: true });
    const x = tf.ones([200, 500]);
    const rate = 0.25;
    // The path training takes: the Dropout layer calls tfjs-core's dropout at call time.
    const drop = (seed?: number) => tf.layers.dropout({ rate, seed }).apply(x, { training: true }) as tf.Tensor;
    const { kernels } = await tf.profile(() => drop(42));
    assert.ok(
      kernels.some((k) => k.name === DROPOUT_KERNEL),
      `native dropout kernel ran: ${kernels.map((k) => k.name).join(', ')}`,
    );
    const a = await drop(42).data();
    const b = await drop(42).data();
    const c = await drop().data();
    const kept = Math.fround(1 / Math.fround(1 - rate));
    assert.ok(
      a.every((v) => v === 0 || v === kept),
      'every value is dropped or scaled by 1/keep',
    );
    const keptShare = a.filter((v) => v !== 0).length / a.length;
    assert.ok(Math.abs(keptShare - (1 - rate)) < 0.01, `kept share ${keptShare}`);
    assert.deepEqual(a, b, 'a seed repeats its mask, as in tfjs');
    // The gradient draws the same mask again: d/dx sum(dropout(x) * r) = mask * r (x is ones, so a is the mask).
    const r = tf.randomUniform([200, 500], 0.5, 1.5, 'float32', 3);
    const dx = await tf
      .grad((t: tf.Tensor) => tf.sum(tf.mul(tf.layers.dropout({ rate, seed: 42 }).apply(t, { training: true }) as tf.Tensor, r)))(x)
      .data();
    const rv = await r.data();
    assert.ok(
      dx.every((v, i) => v === Math.fround(a[i]! * rv[i]!)),
      'the gradient is the same mask times dy',
    );
    r.dispose();
    assert.notDeepEqual(a, c, 'without a seed the mask changes');
    // Rows of the mask are not copies of each other (the hash covers every index).
    assert.notDeepEqual(a.slice(0, 500), a.slice(500, 1000));
    tf.dispose(x);
  });
});

describe('native batch normalisation and fused gradients match tfjs', { skip }, () => {
  test('FusedBatchNorm with per-channel, broadcast and scalar parameters, with and without scale and offset', async () => {
    const C = 24;
    for (const paramShape of [[C], [1, 1, 1, C]]) {
      const stats = { mean: input(paramShape), variance: input(paramShape, 0.1, 2) };
      await check('FusedBatchNorm', { x: input([4, 5, 6, C]), ...stats, offset: input(paramShape), scale: input(paramShape) }, { varianceEpsilon: 1e-3 });
      await check('FusedBatchNorm', { x: input([4, 5, 6, C]), ...stats }, { varianceEpsilon: 1e-5 });
    }
    await check('FusedBatchNorm', { x: input([3, 7, C]), mean: input([]), variance: input([], 0.5, 1), scale: input([]) }, { varianceEpsilon: 1e-3 });
  });

  /**
   * The reference is tfjs-layers' own BatchNormalization in training mode on the CPU backend
   * (moments, batchNorm and tfjs' gradients of both); on native the patched layer runs the two
   * fused kernels. Compared: the output, the gradients of x, gamma and beta, and the moving
   * statistics after the update.
   */
  async function batchNormLayerStep(backend: 'native' | 'cpu', shape: number[], data: Record<string, Float32Array>) {
    await useBackend(backend, { quiet: true });
    const C = shape[shape.length - 1]!;
    const layer = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-3 });
    layer.build(shape);
    layer.setWeights([tf.tensor(data.gamma!, [C]), tf.tensor(data.beta!, [C]), tf.tensor(data.movingMean!, [C]), tf.tensor(data.movingVar!, [C], 'float32')]);
    const x = tf.variable(tf.tensor(data.x!, shape), true, `bn_x_${backend}_${shape.join('x')}`);
    const w = tf.tensor(data.w!, shape);
    const [gamma, beta] = layer.trainableWeights.map((v) => (v as unknown as { val: tf.Variable }).val);
    let y: Float32Array | null = null;
    const run = () =>
      tf.variableGrads(() => {
        const out = layer.apply(x, { training: true }) as tf.Tensor;
        if (!y) y = Float32Array.from(out.dataSync());
        return tf.sum(tf.mul(out, w)) as tf.Scalar;
      }, [x, gamma!, beta!]);
    const { kernels } = await tf.profile(() => tf.dispose(run().grads));
    y = null;
    const { grads } = run();
    const take = async (t: tf.Tensor) => Float32Array.from(await t.data());
    const result = {
      y: y as unknown as Float32Array,
      dx: await take(grads[x.name]!),
      dgamma: await take(grads[gamma!.name]!),
      dbeta: await take(grads[beta!.name]!),
      movingMean: await take(layer.getWeights()[2]!),
      movingVar: await take(layer.getWeights()[3]!),
      kernels: kernels.map((k) => k.name),
    };
    tf.dispose([x, w, ...Object.values(grads), ...layer.weights.map((v) => (v as unknown as { val: tf.Variable }).val)]);
    return result;
  }

  test(`${BATCH_NORM_TRAIN_KERNEL} and ${BATCH_NORM_GRAD_KERNEL}: the BatchNormalization layer's training step`, async () => {
    // Channel means well away from zero against their spread, as after a relu, and a large batch.
    for (const [shape, offset] of [
      [[4, 6, 5, 8], 0],
      [[32, 12, 12, 64], 3],
      [[16, 10], -2],
      [[2, 3, 3, 192], 0.5],
    ] as [number[], number][]) {
      const C = shape[shape.length - 1]!;
      const data = {
        x: randomValues(shape, offset - 1, offset + 1),
        w: randomValues(shape),
        gamma: randomValues([C], 0.5, 1.5),
        beta: randomValues([C]),
        movingMean: randomValues([C]),
        movingVar: randomValues([C], 0.5, 2),
      };
      const native = await batchNormLayerStep('native', shape, data);
      const reference = await batchNormLayerStep('cpu', shape, data);
      assert.ok(native.kernels.includes(BATCH_NORM_TRAIN_KERNEL) && native.kernels.includes(BATCH_NORM_GRAD_KERNEL), `native ran ${native.kernels.join(', ')}`);
      assert.ok(
        !native.kernels.includes('Mean') && !native.kernels.includes('FusedBatchNorm'),
        `native ran tfjs' batch norm too: ${native.kernels.join(', ')}`,
      );
      assert.ok(!reference.kernels.includes(BATCH_NORM_TRAIN_KERNEL), "the cpu backend keeps tfjs-layers' own batch norm");
      for (const key of ['y', 'dx', 'dgamma', 'dbeta', 'movingMean', 'movingVar'] as const) {
        assert.ok(
          reference[key].some((v) => v !== 0),
          `${key}: reference all zeros`,
        );
        const err = relativeError(native[key], reference[key]);
        assert.ok(err < TOLERANCE, `${key} of [${shape}]: relative error ${err.toExponential(2)}`);
      }
    }
  });

  test("a batch norm over another axis than the last is left to tfjs-layers' own code", async () => {
    const x = input([4, 3, 5]);
    const run = async (backend: 'native' | 'cpu') => {
      await useBackend(backend, { quiet: true });
      const layer = tf.layers.batchNormalization({ axis: 1 });
      const xt = tf.tensor(x.values, x.shape);
      let values = new Float32Array();
      const { kernels } = await tf.profile(() => {
        const y = layer.apply(xt, { training: true }) as tf.Tensor;
        values = Float32Array.from(y.dataSync());
        return y;
      });
      tf.dispose([xt, ...layer.weights.map((v) => (v as unknown as { val: tf.Variable }).val)]);
      return { values, kernels: kernels.map((k) => k.name) };
    };
    const native = await run('native');
    assert.ok(!native.kernels.includes(BATCH_NORM_TRAIN_KERNEL), `axis 1 is left to tfjs: ${native.kernels.join(', ')}`);
    assert.ok(native.kernels.includes('FusedBatchNorm'), `tfjs' batch norm ran: ${native.kernels.join(', ')}`);
    const err = relativeError(native.values, (await run('cpu')).values);
    assert.ok(err < TOLERANCE, `relative error ${err.toExponential(2)}`);
  });

  test(`${RELU_GRAD_BIAS_KERNEL}: a fused conv's relu and bias gradients in one pass`, async () => {
    const y = input([5, 7, 9, 48]);
    y.values.forEach((v, i) => (y.values[i] = Math.max(v, 0)));
    const dy = input([5, 7, 9, 48]);
    await useBackend('native', { quiet: true });
    const [g, db] = tf.engine().runKernel(RELU_GRAD_BIAS_KERNEL, { dy: tf.tensor(dy.values, dy.shape), y: tf.tensor(y.values, y.shape) }) as tf.Tensor[];
    const got = { g: Float32Array.from(await g!.data()), db: Float32Array.from(await db!.data()) };
    await useBackend('cpu', { quiet: true });
    const gRef = tf.mul(tf.tensor(dy.values, dy.shape), tf.step(tf.tensor(y.values, y.shape)));
    const dbRef = tf.sum(gRef, [0, 1, 2]);
    assert.deepEqual(got.g, Float32Array.from(await gRef.data()));
    const err = relativeError(got.db, Float32Array.from(await dbRef.data()));
    assert.ok(err < TOLERANCE, `bias gradient: relative error ${err.toExponential(2)}`);
  });
});
