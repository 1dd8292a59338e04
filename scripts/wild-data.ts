/**
 * Builds the seven-class training mix behind the bundled `visemo7` model, as symbolic links into
 * ../shared (nothing is copied), with people and films held out that no model in its chain sees:
 *   OUT/wild7/train/<class>/  FER2013 train (97 %), SFEW train films (80 %, each linked 3×),
 *                             facial_expressions people (70 %), CK+ training subjects (each 3×)
 *   OUT/wild7/val/<class>/    the rest of FER2013 train (3 %), the other SFEW train films, 10 % of
 *                             the facial_expressions people: where epochs and settings are chosen
 *   OUT/fe-heldout/<class>/   facial_expressions, the other 20 % of people: a test set
 *   OUT/ckplus-heldout/<class>/ the CK+ subjects held out from every bundled model: a test set
 *   OUT/wild7-lite/{train,val}/ wild7 with a quarter of its FER2013 images (seeded): the smaller mix
 *                             the alignment and distillation ablations train on (scripts/ablation.ts)
 * SFEW's own val folder (other films again) is the SFEW test set and is not linked here.
 * SFEW is split by film (the file name's prefix), facial_expressions by person (the name before the
 * trailing number; a name without one is its own person), CK+ by subject; all seeded (42).
 * Usage: npx tsx scripts/wild-data.ts [OUT] (default ../visemo-data)
 */
import path from 'node:path';
import { scanImageFolder, type ImageItem } from '../src/data/image-folder.js';
import { createRng, shuffleInPlace } from '../src/util/random.js';
import { ckplusSubjectSplit, DEFAULT_OUT, fePerson, groupCount, linkClassFolders, once, sfewFilm, SHARED_DATASETS, splitByGroup } from './data-links.js';

const WILD_CLASSES = ['anger', 'disgust', 'fear', 'happiness', 'neutral', 'sadness', 'surprise'];

const out = path.resolve(process.argv[2] ?? DEFAULT_OUT);
const classes = WILD_CLASSES;
const SEED = 42;

const fer = await scanImageFolder(path.join(SHARED_DATASETS, 'fer2013', 'train'), { classes });
const sfew = await scanImageFolder(path.join(SHARED_DATASETS, 'sfew', 'train'), { classes });
const fe = await scanImageFolder(path.join(SHARED_DATASETS, 'facial_expressions'), { classes });
const ck = await ckplusSubjectSplit();

// FER2013 has no person ids: every image is its own group.
const ferSplit = splitByGroup(fer.items, (f) => f, { val: 0.03, test: 0 }, SEED);
const sfewSplit = splitByGroup(sfew.items, sfewFilm, { val: 0.2, test: 0 }, SEED);
const feSplit = splitByGroup(fe.items, fePerson, { val: 0.1, test: 0.2 }, SEED);

const SFEW_COPIES = 3;
const CK_COPIES = 3;
const LITE_FER_SHARE = 0.25;
await linkClassFolders(path.join(out, 'wild7', 'train'), classes, [
  ...once(ferSplit.train),
  ...once(sfewSplit.train, SFEW_COPIES),
  ...once(feSplit.train),
  ...once(ck.train, CK_COPIES),
]);
const ferLite = shuffleInPlace([...ferSplit.train], createRng(SEED)).slice(0, Math.round(ferSplit.train.length * LITE_FER_SHARE));
await linkClassFolders(path.join(out, 'wild7-lite', 'train'), classes, [
  ...once(ferLite),
  ...once(sfewSplit.train, SFEW_COPIES),
  ...once(feSplit.train),
  ...once(ck.train, CK_COPIES),
]);
await linkClassFolders(path.join(out, 'wild7-lite', 'val'), classes, once([...ferSplit.val, ...sfewSplit.val, ...feSplit.val]));
await linkClassFolders(path.join(out, 'wild7', 'val'), classes, once([...ferSplit.val, ...sfewSplit.val, ...feSplit.val]));
await linkClassFolders(path.join(out, 'fe-heldout'), classes, once(feSplit.test));
await linkClassFolders(
  path.join(out, 'ckplus-heldout'),
  classes.filter((c) => c !== 'neutral'),
  once(ck.heldOut),
);

const films = (items: ImageItem[]) => groupCount(items, sfewFilm);
const people = (items: ImageItem[]) => groupCount(items, fePerson);
console.log(
  `${out}/wild7/train: ${ferSplit.train.length} FER2013 + ${SFEW_COPIES} × ${sfewSplit.train.length} SFEW (${films(sfewSplit.train)} films) + ${feSplit.train.length} facial_expressions (${people(feSplit.train)} people) + ${CK_COPIES} × ${ck.train.length} CK+`,
);
console.log(
  `${out}/wild7/val: ${ferSplit.val.length} FER2013 + ${sfewSplit.val.length} SFEW (${films(sfewSplit.val)} films) + ${feSplit.val.length} facial_expressions (${people(feSplit.val)} people)`,
);
console.log(`${out}/wild7-lite/train: ${ferLite.length} FER2013 and the rest as wild7/train; wild7-lite/val = wild7/val`);
console.log(`${out}/fe-heldout: ${feSplit.test.length} facial_expressions images (${people(feSplit.test)} people, none in wild7)`);
console.log(`${out}/ckplus-heldout: ${ck.heldOut.length} CK+ images (the held-out subjects of every bundled model)`);
