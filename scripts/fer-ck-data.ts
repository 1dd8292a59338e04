/**
 * Builds the image folders behind the bundled six-class `visemo` model (models/visemo-fer48), as
 * symbolic links into ../shared (nothing is copied):
 *   OUT/fer-ck-train/<class>/  FER2013 train (the paper's six classes) + CK+ training subjects
 *   OUT/ckplus-heldout/<class>/ CK+ images of the held-out subjects, never trained on
 *   OUT/ck-focus/<class>/      the same CK+ training subjects + a seeded 1000 FER2013 train images per
 *                              class: a short last fine-tune where CK+ is a tenth of the data, not 3%
 *   OUT/fer-ck-x6/<class>/     FER2013 train + each CK+ training image linked six times (…-c1.png …
 *                              -c6.png): CK+ becomes 14% of the data while all of FER2013 stays
 * CK+ is split by subject (seed 42, 30% of subjects held out, stratified per class), so no person
 * is on both sides. Usage: npx tsx scripts/fer-ck-data.ts [OUT] (default ../visemo-data)
 */
import path from 'node:path';
import { PAPER_CLASSES } from '../src/data/classes.js';
import { scanImageFolder, type ImageItem } from '../src/data/image-folder.js';
import { createRng, shuffleInPlace } from '../src/util/random.js';
import { ckplusSubjectSplit, DEFAULT_OUT, linkClassFolders, once, SHARED_DATASETS } from './data-links.js';

const out = path.resolve(process.argv[2] ?? DEFAULT_OUT);
const classes = [...PAPER_CLASSES];

const ck = await ckplusSubjectSplit();
const fer = await scanImageFolder(path.join(SHARED_DATASETS, 'fer2013', 'train'), { classes });

await linkClassFolders(path.join(out, 'fer-ck-train'), classes, once([...fer.items, ...ck.train]));
await linkClassFolders(path.join(out, 'ckplus-heldout'), classes, once(ck.heldOut));
const FER_PER_CLASS = 1000;
const rng = createRng(42);
const ferSample = classes.flatMap((c) =>
  shuffleInPlace(
    fer.items.filter((it) => it.label === c),
    rng,
  ).slice(0, FER_PER_CLASS),
);
await linkClassFolders(path.join(out, 'ck-focus'), classes, once([...ferSample, ...ck.train]));
const CK_COPIES = 6;
await linkClassFolders(path.join(out, 'fer-ck-x6'), classes, [...once(fer.items), ...once(ck.train, CK_COPIES)]);
const subjects = (items: ImageItem[]) => new Set(items.map((it) => path.basename(it.path).split('_')[0])).size;
console.log(`${out}/fer-ck-train: ${fer.items.length} FER2013 + ${ck.train.length} CK+ images (${subjects(ck.train)} subjects)`);
console.log(`${out}/fer-ck-x6: ${fer.items.length} FER2013 + ${CK_COPIES} × the same ${ck.train.length} CK+ images`);
console.log(`${out}/ck-focus: ${ferSample.length} FER2013 + the same ${ck.train.length} CK+ images`);
console.log(`${out}/ckplus-heldout: ${ck.heldOut.length} CK+ images (${subjects(ck.heldOut)} subjects, none in training)`);
