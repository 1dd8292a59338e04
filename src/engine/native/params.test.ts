/**
 * The two sides of the addon's calling convention agree: the committed params.h and
 * params.generated.ts are what native/ops.json generates, the compiled addon lays out each
 * parameter struct as the TypeScript packers fill it (field i at byte 4i) with the same operation
 * codes and checksum, and an addon built from another table is refused.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { ADDON_PATH, staleLayout, type NativeAddon } from './addon.js';
import { PARAMS_ENUMS, PARAMS_FIELDS, PARAMS_LAYOUT, packConvParams, packMatMulParams, packPoolParams, packResizeParams } from './params.generated.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('the committed params.h and params.generated.ts are what native/ops.json generates', () => {
  const run = spawnSync(process.execPath, ['scripts/gen-native-params.mjs', '--check'], { cwd: root, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
});

test('each packer writes its named fields in the order PARAMS_FIELDS lists', () => {
  // Field i gets the value i + 1 (booleans alternate), so a swapped pair shows.
  const named = <K extends keyof typeof PARAMS_FIELDS>(struct: K, bools: string[] = []) =>
    Object.fromEntries(PARAMS_FIELDS[struct].map((f, i) => [f, bools.includes(f) ? i % 2 === 0 : i + 1]));
  const expected = (struct: keyof typeof PARAMS_FIELDS, bools: string[] = []) =>
    PARAMS_FIELDS[struct].map((f, i) => (bools.includes(f) ? (i % 2 === 0 ? 1 : 0) : i + 1));
  assert.deepEqual([...packConvParams(named('ConvParams') as never)], expected('ConvParams'));
  assert.deepEqual([...packPoolParams(named('PoolParams') as never)], expected('PoolParams'));
  const mm = ['transposeA', 'transposeB'];
  assert.deepEqual([...packMatMulParams(named('MatMulParams', mm) as never)], expected('MatMulParams', mm));
  const rs = ['alignCorners', 'halfPixelCenters'];
  assert.deepEqual([...packResizeParams(named('ResizeParams', rs) as never)], expected('ResizeParams', rs));
});

test('an addon from another parameter table is refused', () => {
  assert.equal(staleLayout({ layout: () => ({ checksum: PARAMS_LAYOUT, structs: {}, enums: {} }) }), null);
  assert.match(staleLayout({ layout: () => ({ checksum: PARAMS_LAYOUT ^ 1, structs: {}, enums: {} }) }) ?? '', /out of date .*expected 0x/);
  assert.match(staleLayout({}) ?? '', /parameter layout none/);
});

// Loaded directly, not through loadAddon (which refuses a stale addon): a stale build fails here.
const built = existsSync(ADDON_PATH);
test('the compiled addon lays out the structs and enums as the TypeScript side does', { skip: built ? false : 'native addon not built' }, () => {
  const native = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
  const layout = native.layout();
  assert.equal(layout.checksum, PARAMS_LAYOUT, 'rebuild the addon: npm run build:native');
  assert.deepEqual(Object.keys(layout.structs).sort(), Object.keys(PARAMS_FIELDS).sort());
  for (const [name, fields] of Object.entries(PARAMS_FIELDS)) {
    const compiled = layout.structs[name]!;
    assert.equal(compiled.size, 4 * fields.length, `${name}'s size`);
    assert.deepEqual(compiled.fields, Object.fromEntries(fields.map((f, i) => [f, 4 * i])), `${name}'s field offsets`);
  }
  assert.deepEqual(layout.enums, JSON.parse(JSON.stringify(PARAMS_ENUMS)));
});
