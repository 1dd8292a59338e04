/**
 * posed7 with FER2013's own labels mixed back into FER+'s crowd votes (issue 31: trained on the
 * votes alone, the default model's FER2013 publictest accuracy fell from 63.2 % to 57.7 %, because
 * FER2013's labels and FER+'s majorities disagree on about a quarter of the faces). Needs
 * OUT/posed7 (scripts/posed-data.ts) and OUT/ferplus-fer2013-labels.csv (scripts/fer-label-match.ts).
 *
 *   OUT/posed7m/train, val      links to posed7's folders (the same images and labels)
 *   OUT/posed7m/soft-targets.csv  posed7's rows, but each matched FER+ face's target is
 *                                 (1 − MIX)·votes/Σvotes + MIX·onehot(FER2013's label)
 *   OUT/posed7m-val-fer2013/<class>/  posed7's FER+ validation faces filed by FER2013's own label,
 *                                 to measure agreement with FER2013's labels on validation
 *
 * Usage: npx tsx scripts/posed-mix-data.ts [OUT] [MIX] (defaults ../visemo-data, 0.5)
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { normaliseClassName } from '../src/data/classes.js';
import { writeFileAtomic } from '../src/util/atomic.js';

const OUT = path.resolve(process.argv[2] ?? path.resolve(import.meta.dirname, '../../visemo-data'));
const MIX = Number(process.argv[3] ?? 0.5);
async function main(): Promise<void> {
  if (!(MIX >= 0 && MIX <= 1)) throw new Error(`MIX must be in [0, 1], not ${process.argv[3]}`);
  const posed = path.join(OUT, 'posed7');
  const lines = (await fs.readFile(path.join(posed, 'soft-targets.csv'), 'utf8')).trim().split('\n');
  const classes = lines[0]!.split(',').slice(1);
  const labels = new Map<string, string>();
  for (const line of (await fs.readFile(path.join(OUT, 'ferplus-fer2013-labels.csv'), 'utf8')).trim().split('\n').slice(1)) {
    const [file, label] = line.split(',');
    // FER2013's folders may use Kaggle's spellings (angry, happy, sad): the project's aliases fold them.
    const name = normaliseClassName(label!);
    if (!classes.includes(name)) throw new Error(`ferplus-fer2013-labels.csv: unknown label ${label}`);
    labels.set(file!, name);
  }
  let mixed = 0;
  const out = [lines[0]!];
  for (const line of lines.slice(1)) {
    const [file, ...w] = line.split(',');
    const orig = labels.get(path.basename(file!));
    if (!/^fer\d+\.png$/.test(path.basename(file!)) || !orig) {
      out.push(line);
      continue;
    }
    const votes = w.map(Number);
    const sum = votes.reduce((a, b) => a + b, 0);
    const target = votes.map((v, i) => (1 - MIX) * (v / sum) + (classes[i] === orig ? MIX : 0));
    out.push(`${file},${target.map((t) => Number(t.toFixed(4))).join(',')}`);
    mixed++;
  }
  const mix = path.join(OUT, 'posed7m');
  await fs.mkdir(mix, { recursive: true });
  for (const split of ['train', 'val']) {
    await fs.rm(path.join(mix, split), { force: true });
    await fs.symlink(path.join(posed, split), path.join(mix, split));
  }
  await writeFileAtomic(path.join(mix, 'soft-targets.csv'), `${out.join('\n')}\n`);

  // FER+'s validation faces under FER2013's own labels.
  const valOut = path.join(OUT, 'posed7m-val-fer2013');
  await fs.rm(valOut, { recursive: true, force: true });
  let filed = 0;
  for (const cls of classes) {
    const names = await fs.readdir(path.join(posed, 'val', cls)).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? [] : Promise.reject(err)));
    for (const name of names) {
      const orig = labels.get(name);
      if (!/^fer\d+\.png$/.test(name) || !orig) continue;
      await fs.mkdir(path.join(valOut, orig), { recursive: true });
      await fs.symlink(await fs.realpath(path.join(posed, 'val', cls, name)), path.join(valOut, orig, name));
      filed++;
    }
  }
  console.log(`${mix}: ${mixed} FER+ targets mixed with FER2013's label (MIX ${MIX}); ${valOut}: ${filed} validation faces by FER2013's label`);
}

await main();
