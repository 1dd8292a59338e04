import { startServer } from '../src/server/server.js';
import { composite, ckFace } from './predict-helpers.js';
const image = await composite(640, 400, [
  { file: ckFace('happiness'), left: 20, top: 100, side: 200 },
  { file: ckFace('surprise'), left: 380, top: 100, side: 200 },
]);
const srv = await startServer({ port: 0, workers: Number(process.argv[2]), log: console.log });
await srv.pool?.ready();
console.log('ready', process.memoryUsage().rss / 1e6);
const post = () => fetch(`${srv.url}api/recognize`, { method: 'POST', body: image, headers: { 'Content-Type': 'image/png' } }).then(async (r) => [r.status, (await r.text()).slice(0, 120)]);
let t = performance.now();
console.log(await post(), performance.now() - t);
t = performance.now();
console.log(await Promise.all([post(), post(), post(), post()]), performance.now() - t);
console.log('served', srv.pool?.served, 'rss', process.memoryUsage().rss / 1e6, 'peak px', srv.admission.peakPixels);
await srv.close();
