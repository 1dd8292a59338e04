#!/usr/bin/env node
// `npm pack` / `npm publish` (prepack): what the package ships, built fresh. dist/ is emptied
// (so no file of an older build is packed), the TypeScript is compiled, and the web page is
// bundled into dist/web/ (app.js, index.html, style.css), which an installed visemo serves as
// it is: esbuild is a development dependency and never runs in an installed package.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
rmSync(join(root, 'dist'), { recursive: true, force: true });
const npm = process.env.npm_execpath;
const build = npm
  ? spawnSync(process.execPath, [npm, 'run', 'build'], { cwd: root, stdio: 'inherit' })
  : spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
if (build.status !== 0) {
  console.error('pack-build: `npm run build` failed');
  process.exit(1);
}
const { bundleWebPage, PACKED_WEB_DIR } = await import(pathToFileURL(join(root, 'dist', 'server', 'web-bundle.js')).href);
const started = Date.now();
await bundleWebPage(PACKED_WEB_DIR, { copyStatic: true });
console.log(`pack-build: web page bundled into dist/web in ${((Date.now() - started) / 1000).toFixed(1)} s`);
