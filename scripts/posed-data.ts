/**
 * Builds the seven-class training mix of issue 31 (more varied, cleaner labels), as symbolic links
 * into ../shared plus face crops that `visemo prepare` cuts from CFEE's photos (derived images stay
 * outside the repository, in OUT):
 *   OUT/posed7/train/<class>/  FER+ training faces (97 %) with their crowd votes as soft targets;
 *                              SFEW train films, facial_expressions people and CK+ training
 *                              subjects exactly as wild7 (scripts/wild-data.ts: same seeds, so
 *                              the same people and films are held out); CFEE training people's
 *                              faces (basic seven, each linked 3×), and their compound expressions
 *                              named by two basic ones ("happily surprised") as 0.5/0.5 targets
 *   OUT/posed7/val/<class>/    FER+ 3 %, wild7's validation films and people, CFEE validation people
 *   OUT/posed7/soft-targets.csv  FER+ votes and the compound mixes (src/data/soft-targets.ts)
 *   OUT/cfee-test/<class>/     CFEE's test people, basic seven, the full 400×300 photos (for predict,
 *                              compare and audit): no model trains on them or is chosen by them
 *   OUT/cfee-val/<class>/      CFEE's validation people, full photos (calibration is fitted on them)
 * CFEE is split by identity (labels.csv): a fixed third of the people (seeded 42) is the test set,
 * 15 % of the others validate. FER+ faces whose votes' majority is `unknown`, `NF` or `contempt`
 * are left out (ties go to the first column, as the dataset README counts them); the soft target
 * is the votes over the seven classes. FER+'s `valid/` is FER2013's public test: never linked here.
 * Compound categories that do not name two basic emotions (appalled, hatred, awed) are left out.
 *
 * Usage: npx tsx scripts/posed-data.ts [OUT] (default ../visemo-data); needs `npm run build` (it runs
 * dist/cli/main.js prepare for the CFEE crops, which resumes when run again).
 */
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { scanImageFolder, type ImageItem } from '../src/data/image-folder.js';
import { SOFT_TARGETS_FILE } from '../src/data/soft-targets.js';
import { createRng, shuffleInPlace } from '../src/util/random.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import {
  ckplusSubjectSplit,
  DEFAULT_OUT,
  fePerson,
  linkClassFolders,
  linkNames,
  once,
  sfewFilm,
  SHARED_DATASETS,
  splitByGroup,
  type LinkItem,
} from './data-links.js';

const CLASSES = ['anger', 'disgust', 'fear', 'happiness', 'neutral', 'sadness', 'surprise'] as const;
const SEED = 42;
const out = path.resolve(process.argv[2] ?? DEFAULT_OUT);
const mix = path.join(out, 'posed7');
const here = path.dirname(fileURLToPath(import.meta.url));

// ---- FER+: votes → label and soft target --------------------------------------------------------
const VOTE_COLUMNS = ['neutral', 'happiness', 'surprise', 'sadness', 'anger', 'disgust', 'fear', 'contempt', 'unknown', 'NF'];
interface FerPlusFace {
  item: ImageItem;
  votes: number[]; // over CLASSES
}
async function ferPlusTrain(): Promise<{ faces: FerPlusFace[]; dropped: number }> {
  const dir = path.join(SHARED_DATASETS, 'ferplus');
  const lines = (await fs.readFile(path.join(dir, 'votes.csv'), 'utf8')).trim().split('\n');
  const header = lines[0]!.split(',');
  if (header.slice(2).join(',') !== VOTE_COLUMNS.join(',')) throw new Error(`unexpected ferplus/votes.csv header: ${lines[0]}`);
  const faces: FerPlusFace[] = [];
  let dropped = 0;
  for (const line of lines.slice(1)) {
    const [split, file, ...cells] = line.split(',');
    if (split !== 'train') continue;
    const v = cells.map(Number);
    const top = v.indexOf(Math.max(...v));
    if (top >= 7) {
      dropped++; // contempt, unknown or not a face
      continue;
    }
    const votes = CLASSES.map((c) => v[VOTE_COLUMNS.indexOf(c)]!);
    const label = VOTE_COLUMNS[top]!;
    faces.push({ item: { path: path.join(dir, 'train', file!), rel: `${label}/${file}`, label, file: file! }, votes });
  }
  return { faces, dropped };
}

// ---- CFEE: identity split, basic and compound -------------------------------------------------
const CFEE = path.join(SHARED_DATASETS, 'cfee');
const ADVERB: Record<string, string> = { happily: 'happiness', sadly: 'sadness', fearfully: 'fear', angrily: 'anger', disgustedly: 'disgust' };
const NOUN: Record<string, string> = { surprised: 'surprise', disgusted: 'disgust', angry: 'anger', fearful: 'fear' };
/** "happily_surprised" → [happiness, surprise] (the second names the folder); null for appalled, hatred, awed. */
function compoundPair(category: string): [string, string] | null {
  const [a, b] = category.split('_');
  return a && b && ADVERB[a] && NOUN[b] ? [ADVERB[a], NOUN[b]] : null;
}
interface CfeeRow {
  file: string;
  identity: string;
  type: 'simple' | 'compound';
}
async function cfeeRows(): Promise<CfeeRow[]> {
  const lines = (await fs.readFile(path.join(CFEE, 'labels.csv'), 'utf8')).trim().split('\n');
  return lines.slice(1).map((l) => {
    const [file, identity, , type] = l.split(',');
    return { file: file!, identity: identity!, type: type as CfeeRow['type'] };
  });
}

const rows = await cfeeRows();
const ids = [...new Set(rows.map((r) => r.identity))].sort((a, b) => Number(a) - Number(b));
shuffleInPlace(ids, createRng(SEED));
const nTest = Math.round(ids.length / 3);
const nVal = Math.round((ids.length - nTest) * 0.15);
const cfeeSide = new Map<string, 'test' | 'val' | 'train'>(ids.map((id, i) => [id, i < nTest ? 'test' : i < nTest + nVal ? 'val' : 'train']));

// Source tree for prepare: train/val/<class>/ links (compound ones named cmp-<category>-<file>).
const cfeeSrc = path.join(out, 'cfee-src');
const srcItems: Record<'train' | 'val', LinkItem[]> = { train: [], val: [] };
const fullFrames: Record<'test' | 'val', LinkItem[]> = { test: [], val: [] };
for (const r of rows) {
  const side = cfeeSide.get(r.identity)!;
  const [kind, category, file] = r.file.split('/') as [string, string, string];
  const abs = path.join(CFEE, r.file);
  if (kind === 'basic') {
    const item: ImageItem = { path: abs, rel: `${category}/${file}`, label: category, file };
    if (side === 'test' || side === 'val') fullFrames[side].push({ item });
    if (side !== 'test') srcItems[side].push({ item });
  } else if (side === 'train') {
    const pair = compoundPair(category);
    if (!pair) continue;
    // A link named after its category, so the soft target can be read back from prepare's manifest.
    srcItems.train.push({ item: { path: abs, rel: `${pair[1]}/cmp-${category}-${file}`, label: pair[1], file: `cmp-${category}-${file}` } });
  }
}
for (const side of ['train', 'val'] as const) await linkClassFolders(path.join(cfeeSrc, side), CLASSES, srcItems[side]);
await linkClassFolders(path.join(out, 'cfee-test'), CLASSES, fullFrames.test);
await linkClassFolders(path.join(out, 'cfee-val'), CLASSES, fullFrames.val);

// Faces cut as predict cuts them on photos: SSD, the default margin, no augmentation.
const cfeeFaces = path.join(out, 'cfee-faces');
const prep = spawnSync(
  process.execPath,
  [
    path.join(here, '..', 'dist', 'cli', 'main.js'),
    'prepare',
    cfeeSrc,
    '-o',
    cfeeFaces,
    '--source',
    'images',
    '--detector',
    'ssd',
    '--augment',
    'none',
    '--size',
    '96',
  ],
  { stdio: 'inherit' },
);
if (prep.status === 2 || prep.error) throw new Error(`visemo prepare failed (${prep.error?.message ?? `exit ${prep.status}`})`);
const manifest = JSON.parse(await fs.readFile(path.join(cfeeFaces, 'manifest.json'), 'utf8')) as {
  images: { file: string; source: string; split: string; label: string }[];
};

// ---- The mix --------------------------------------------------------------------------------
const ferPlus = await ferPlusTrain();
const ferSplit = splitByGroup(
  ferPlus.faces.map((f) => f.item),
  (f) => f,
  { val: 0.03, test: 0 },
  SEED,
);
const votesOf = new Map(ferPlus.faces.map((f) => [f.item.path, f.votes]));
const sfew = await scanImageFolder(path.join(SHARED_DATASETS, 'sfew', 'train'), { classes: [...CLASSES] });
const fe = await scanImageFolder(path.join(SHARED_DATASETS, 'facial_expressions'), { classes: [...CLASSES] });
const ck = await ckplusSubjectSplit();
const sfewSplit = splitByGroup(sfew.items, sfewFilm, { val: 0.2, test: 0 }, SEED);
const feSplit = splitByGroup(fe.items, fePerson, { val: 0.1, test: 0.2 }, SEED);

const faceItem = (m: { file: string; label: string }): ImageItem => ({
  path: path.join(cfeeFaces, m.file),
  rel: m.file,
  label: m.label,
  file: path.basename(m.file),
});
const cfeeTrain = manifest.images.filter((m) => m.split === 'train');
const cfeeVal = manifest.images.filter((m) => m.split === 'val');
const CFEE_COPIES = 3;
const SFEW_COPIES = 3;
const CK_COPIES = 3;
await linkClassFolders(path.join(mix, 'train'), CLASSES, [
  ...once(ferSplit.train),
  ...once(sfewSplit.train, SFEW_COPIES),
  ...once(feSplit.train),
  ...once(ck.train, CK_COPIES),
  ...once(cfeeTrain.map(faceItem), CFEE_COPIES),
]);
await linkClassFolders(path.join(mix, 'val'), CLASSES, once([...ferSplit.val, ...sfewSplit.val, ...feSplit.val, ...cfeeVal.map(faceItem)]));

// Soft targets, keyed by the links' dataset-relative paths (linkNames, as linkClassFolders names them).
const csv = [`file,${CLASSES.join(',')}`];
for (const [split, items] of [
  ['train', ferSplit.train],
  ['val', ferSplit.val],
] as const) {
  for (const it of items) csv.push(`${split}/${it.label}/${linkNames(it, 1)[0]},${votesOf.get(it.path)!.join(',')}`);
}
let compounds = 0;
for (const m of cfeeTrain) {
  const category = /\/cmp-([a-z_]+)-[^/]+$/.exec(m.source)?.[1];
  if (!category) continue;
  const pair = compoundPair(category)!;
  const row = CLASSES.map((c) => (pair.includes(c) ? 1 : 0)).join(',');
  for (const n of linkNames(faceItem(m), CFEE_COPIES)) csv.push(`train/${m.label}/${n},${row}`);
  compounds++;
}
await writeFileAtomic(path.join(mix, SOFT_TARGETS_FILE), `${csv.join('\n')}\n`);

const count = (side: string) => [...cfeeSide.values()].filter((s) => s === side).length;
console.log(
  `${mix}/train: ${ferSplit.train.length} FER+ (${ferPlus.dropped} left out: unknown, NF or contempt) + ${SFEW_COPIES} × ${sfewSplit.train.length} SFEW + ${feSplit.train.length} facial_expressions + ${CK_COPIES} × ${ck.train.length} CK+ + ${CFEE_COPIES} × ${cfeeTrain.length} CFEE faces (${compounds} compound)`,
);
console.log(`${mix}/val: ${ferSplit.val.length} FER+ + ${sfewSplit.val.length} SFEW + ${feSplit.val.length} facial_expressions + ${cfeeVal.length} CFEE faces`);
console.log(
  `CFEE people: ${count('train')} train, ${count('val')} val, ${count('test')} test; ${out}/cfee-test: ${fullFrames.test.length} photos, ${out}/cfee-val: ${fullFrames.val.length} photos`,
);
