/** Optional packages: a missing one becomes a VisemoError naming `npm install <pkg>`; other failures pass through. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VisemoError } from './errors.js';
import { importOptional, installedVersion, isMissingPackage } from './optional-package.js';

// A name no registry package has: importing it fails exactly as a missing optional package does.
const ABSENT = 'visemo-absent-package-for-tests';

test("the loader's missing-package error is recognised for that package only", async () => {
  const err = await import(ABSENT).then(
    () => assert.fail(`${ABSENT} should not be installed`),
    (e: unknown) => e,
  );
  assert.equal(isMissingPackage(err, ABSENT), true);
  assert.equal(isMissingPackage(err, 'bullmq'), false);
  assert.equal(isMissingPackage(new Error(`Cannot find package '${ABSENT}'`), ABSENT), false, 'an error without the code is not the loader');
});

test('importOptional names the package to install, and passes other failures on', async () => {
  // A visemo module that imports bullmq fails as this does when bullmq is not installed.
  const missing = () =>
    import(ABSENT).catch((e: NodeJS.ErrnoException) => Promise.reject(Object.assign(new Error(e.message.replace(ABSENT, 'bullmq')), { code: e.code })));
  await assert.rejects(importOptional('bullmq', missing), (err: unknown) => {
    assert.ok(err instanceof VisemoError);
    assert.equal(err.toLine(), "bullmq is not installed: 'visemo queue' and 'visemo worker' need it — install it beside visemo: npm install bullmq");
    return true;
  });
  await assert.rejects(
    importOptional('onnxruntime-node', () => Promise.reject(new Error('broken native library'))),
    /^Error: broken native library$/,
  );
  assert.equal(await importOptional('bullmq', async () => 42), 42);
});

test('installedVersion reads a package.json without loading the package', () => {
  assert.match(installedVersion('commander') ?? '', /^\d+\.\d+\.\d+/);
  assert.equal(installedVersion(ABSENT), null);
});
