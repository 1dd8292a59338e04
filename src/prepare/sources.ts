/**
 * What `prepare` reads: the eNTERFACE'05 tree as distributed, a folder of videos per class, or a
 * folder of images per class. Each becomes a list of units (a video or an image) with a label,
 * a subject when one can be told, and the files that could not be parsed.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ENTERFACE_CODES, normaliseClassName } from '../data/classes.js';
import { isImageFile, scanImageFolder } from '../data/image-folder.js';
import { subjectFromName, type SplitName } from '../data/split.js';
import { isVideoFile } from '../image/video.js';
import { VisemoError } from '../util/errors.js';
import { NON_UTF8_REASON, readDirChecked } from '../util/dir-names.js';

export type SourceKind = 'enterface' | 'videos' | 'images';
export const SOURCE_KINDS: SourceKind[] = ['enterface', 'videos', 'images'];

export interface SourceUnit {
  /** Path relative to the source root, '/'-separated: the stable id of the video or image. */
  id: string;
  path: string;
  kind: 'video' | 'image';
  label: string;
  subject?: string;
  /** A split given by the source's own train/val/test layout. */
  split?: SplitName;
}

export interface SourceScan {
  kind: SourceKind;
  root: string;
  units: SourceUnit[];
  /** Files that looked relevant but gave no label (or were left out), with why. */
  unparsed: { file: string; reason: string }[];
  /** Files that cannot be opened by name (not valid UTF-8): failures of this run, named. */
  unreadable: { path: string; reason: string }[];
}

export interface ScanSourceOptions {
  kind?: SourceKind;
  /** Normalised class names to keep (default: all found). */
  classes?: string[];
  /** Regex for the subject in a file name (videos and images sources). */
  subjectPattern?: RegExp;
}

/** Every file under `dir`, relative and '/'-separated, sorted; hidden entries skipped. */
async function walk(dir: string, unreadable: SourceScan['unreadable'], prefix = ''): Promise<string[]> {
  const out: string[] = [];
  const { entries, nonUtf8 } = await readDirChecked(dir);
  unreadable.push(...nonUtf8.map((p) => ({ path: p, reason: NON_UTF8_REASON })));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await walk(path.join(dir, e.name), unreadable, rel)));
    else out.push(rel);
  }
  return out.sort();
}

const EMOTIONS = new Set(Object.values(ENTERFACE_CODES));

/**
 * Label and subject of one eNTERFACE'05 file from its relative path, leniently: the label from an
 * emotion folder or the file's code (s1_an_1.avi), the subject from a `subject N` folder or the
 * file's `sN` prefix. Returns a reason instead when either cannot be found or they disagree.
 */
export function parseEnterfacePath(rel: string): { label: string; subject: string } | { reason: string } {
  const parts = rel.split('/');
  const file = parts.pop()!;
  const stem = path.basename(file, path.extname(file)).trim().toLowerCase();
  const folderLabel = parts.map(normaliseClassName).find((p) => EMOTIONS.has(p));
  const code = stem.split(/[^a-z0-9]+/).find((t) => t in ENTERFACE_CODES);
  const codeLabel = code ? ENTERFACE_CODES[code] : undefined;
  if (folderLabel && codeLabel && folderLabel !== codeLabel) return { reason: `folder says ${folderLabel}, file code says ${codeLabel}` };
  const label = folderLabel ?? codeLabel;
  if (!label) return { reason: 'no emotion folder and no emotion code (an, di, fe, ha, sa, su) in the name' };
  const folderSubject = parts.map((p) => /^subject[\s_-]*(\d+)$/i.exec(p.trim())?.[1]).find(Boolean);
  const fileSubject = /^s[\s_-]*(\d+)/.exec(stem)?.[1];
  const number = folderSubject ?? fileSubject;
  if (!number) return { reason: "no 'subject N' folder and no sN prefix in the name" };
  return { label, subject: `s${Number(number)}` };
}

async function detectKind(root: string, files: string[]): Promise<SourceKind> {
  const top = (await fs.readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  if (top.some((d) => /^subject[\s_-]*\d+$/i.test(d.trim()))) return 'enterface';
  return files.some(isVideoFile) ? 'videos' : 'images';
}

/** Scans a source folder into units. Throws a VisemoError naming the folder when it is unusable. */
export async function scanSource(rootArg: string, opts: ScanSourceOptions = {}): Promise<SourceScan> {
  const root = path.resolve(rootArg);
  const stat = await fs.stat(root).catch(() => null);
  if (!stat?.isDirectory()) {
    throw new VisemoError(`source folder not found: ${rootArg}`, "give the eNTERFACE'05 folder, or a folder with one subfolder of videos or images per class");
  }
  const unreadable: SourceScan['unreadable'] = [];
  const files = await walk(root, unreadable);
  const kind = opts.kind ?? (await detectKind(root, files));
  const units: SourceUnit[] = [];
  const unparsed: SourceScan['unparsed'] = [];

  if (kind === 'images') {
    const folder = await scanImageFolder(root, { classes: opts.classes });
    for (const it of folder.items) {
      const subject = opts.subjectPattern ? subjectFromName(it.file, opts.subjectPattern) : undefined;
      units.push({ id: it.rel, path: it.path, kind: 'image', label: it.label, subject, split: it.split });
    }
    for (const c of folder.ignoredClasses) unparsed.push({ file: `${c}/`, reason: 'class left out by --classes' });
  } else {
    for (const rel of files) {
      if (!isVideoFile(rel)) {
        if (!isImageFile(rel) && !/\.(txt|md|pdf|doc|wav|json)$/i.test(rel)) unparsed.push({ file: rel, reason: 'not a video file' });
        continue;
      }
      let label: string;
      let subject: string | undefined;
      if (kind === 'enterface') {
        const parsed = parseEnterfacePath(rel);
        if ('reason' in parsed) {
          unparsed.push({ file: rel, reason: parsed.reason });
          continue;
        }
        ({ label, subject } = parsed);
      } else {
        const parts = rel.split('/');
        if (parts.length < 2) {
          unparsed.push({ file: rel, reason: 'not inside a class folder' });
          continue;
        }
        label = normaliseClassName(parts[0]!);
        subject = opts.subjectPattern ? subjectFromName(path.basename(rel), opts.subjectPattern) : undefined;
      }
      if (opts.classes && !opts.classes.includes(label)) {
        unparsed.push({ file: rel, reason: `class ${label} left out by --classes` });
        continue;
      }
      units.push({ id: rel, path: path.join(root, ...rel.split('/')), kind: 'video', label, subject });
    }
  }
  if (units.length === 0) {
    throw new VisemoError(
      `no ${kind === 'images' ? 'images' : 'videos'} found in ${rootArg} (read as ${kind})`,
      'check the folder, or name the kind with --source enterface|videos|images',
    );
  }
  // walk() went through the whole tree: its list covers the images source's folders too.
  return { kind, root, units, unparsed, unreadable };
}
