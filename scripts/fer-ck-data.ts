/**
 * Builds the two image folders behind the bundled `visemo` model (models/visemo-fer48), as symbolic
 * links into ../shared (nothing is copied):
 *   OUT/fer-ck-train/<class>/  FER2013 train (the paper's six classes) + CK+ training subjects
 *   OUT/ckplus-heldout/<class>/ CK+ images of the held-out subjects, never trained on
 *   OUT/ck-focus/<class>/      the same CK+ training subjects + a seeded 1000 FER2013 train images per
 *                              class: a short last fine-tune where CK+ is a tenth of the data, not 3%
 *   OUT/fer-ck-x6/<class>/     FER2013 train + each CK+ training image linked six times (…-c1.png …
 *                              -c6.png): CK+ becomes 14% of the data while all of FER2013 stays
 * CK+ is split by subject (seed 42, 30% of subjects held out, stratified per class), so no person
 * is on both sides. Usage: npx tsx scripts/fer-ck-data.ts [OUT] (default ../visemo-data)
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PAPER_CLASSES } from '../src/data/classes.js';
import { prepareDataset } from '../src/data/dataset.js';
import { scanImageFolder, type ImageItem } from '../src/data/image-folder.js';
import { createRng, shuffleInPlace } from '../src/util/random.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const shared = path.resolve(here, '../../shared/datasets');
const out = path.resolve(process.argv[2] ?? path.join(here, '../../visemo-data'));
const classes = [...PAPER_CLASSES];

const ck = await prepareDataset({ data: path.join(shared, 'ckplus48'), classes, split: 'subject', seed: 42, fractions: { val: 0, test: 0.3 } });
const fer = await scanImageFolder(path.join(shared, 'fer2013', 'train'), { classes });

/** Removes a folder this script made before: class folders of links only; anything else stops the script. */
async function removeOwnLinks(dir: string): Promise<void> {
  for (const c of await fs.readdir(dir).catch(() => [])) {
    for (const f of await fs.readdir(path.join(dir, c))) {
      if (!(await fs.lstat(path.join(dir, c, f))).isSymbolicLink()) throw new Error(`${path.join(dir, c, f)} is not a link this script made: move ${dir} away first`);
    }
  }
  await fs.rm(dir, { recursive: true, force: true });
}

/** Links the items into dir/<class>/; with copies > 1 each is linked that often, as name-c1.ext … */
async function link(dir: string, items: ImageItem[], oversampled: { items: ImageItem[]; copies: number } = { items: [], copies: 1 }): Promise<void> {
  await removeOwnLinks(dir);
  for (const c of classes) await fs.mkdir(path.join(dir, c), { recursive: true });
  for (const it of items) await fs.symlink(it.path, path.join(dir, it.label, path.basename(it.path)));
  for (const it of oversampled.items) {
    const { name, ext } = path.parse(it.path);
    for (let k = 1; k <= oversampled.copies; k++) await fs.symlink(it.path, path.join(dir, it.label, `${name}-c${k}${ext}`));
  }
}
await link(path.join(out, 'fer-ck-train'), [...fer.items, ...ck.splits.train]);
await link(path.join(out, 'ckplus-heldout'), ck.splits.test);
const FER_PER_CLASS = 1000;
const rng = createRng(42);
const ferSample = classes.flatMap((c) => shuffleInPlace(fer.items.filter((it) => it.label === c), rng).slice(0, FER_PER_CLASS));
await link(path.join(out, 'ck-focus'), [...ferSample, ...ck.splits.train]);
const CK_COPIES = 6;
await link(path.join(out, 'fer-ck-x6'), fer.items, { items: ck.splits.train, copies: CK_COPIES });
const subjects = (items: ImageItem[]) => new Set(items.map((it) => path.basename(it.path).split('_')[0])).size;
console.log(`${out}/fer-ck-train: ${fer.items.length} FER2013 + ${ck.splits.train.length} CK+ images (${subjects(ck.splits.train)} subjects)`);
console.log(`${out}/fer-ck-x6: ${fer.items.length} FER2013 + ${CK_COPIES} × the same ${ck.splits.train.length} CK+ images`);
console.log(`${out}/ck-focus: ${ferSample.length} FER2013 + the same ${ck.splits.train.length} CK+ images`);
console.log(`${out}/ckplus-heldout: ${ck.splits.test.length} CK+ images (${subjects(ck.splits.test)} subjects, none in training)`);
