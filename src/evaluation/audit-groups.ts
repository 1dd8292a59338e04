/**
 * The `--group-by` rules of `visemo audit`: which group of people each image belongs to. A regular
 * expression whose capture group, matched against the image's path, names its group (an origin
 * code in the file name); a CSV mapping files to attributes (one breakdown per column); or
 * `dataset`, one group per DATA folder. Rules are read and checked before any model loads, so a
 * bad rule costs nothing.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { VisemoError } from '../util/errors.js';

export type GroupRule = { kind: 'dataset' } | { kind: 'regex'; pattern: RegExp } | { kind: 'csv'; file: string };

/** An image to audit: where it is, its DATA folder (index into the DATA list) and its path inside it. */
export interface GroupedItem {
  /** Absolute path. */
  path: string;
  /** Path relative to its DATA folder, '/'-separated (class folder included): what a regex rule reads. */
  rel: string;
  /** Index of its DATA folder. */
  data: number;
}

/** One way of splitting the images into groups: a regex's, a CSV column's, or the DATA folders'. */
export interface Breakdown {
  /** 'dataset', the CSV column, or the regex's group name ('group' when unnamed). */
  name: string;
  /** The group of each item (same order), null when the rule gives it none. */
  groups: (string | null)[];
}

export const GROUP_BY_HELP =
  "'dataset' (one group per DATA folder), a CSV file (first column the file, each other column an attribute), or a regular expression whose capture group, matched against each image's path inside its DATA folder, names its group";

/** Reads `--group-by`: 'dataset', a .csv file, or else a regular expression with a capture group. */
export async function parseGroupRule(rule: string): Promise<GroupRule> {
  if (rule === 'dataset') return { kind: 'dataset' };
  const stat = await fs.stat(rule).catch(() => null);
  if (stat?.isFile()) return { kind: 'csv', file: path.resolve(rule) };
  if (/\.csv$/i.test(rule))
    throw new VisemoError(
      `--group-by ${rule}: no such CSV file`,
      'give the path of a CSV whose first column names the files, or a regular expression, or dataset',
    );
  let pattern: RegExp;
  try {
    pattern = new RegExp(rule);
  } catch (err) {
    throw new VisemoError(
      `--group-by '${rule}' is not a valid regular expression (${(err as Error).message})`,
      "write it as JavaScript's RegExp reads it, e.g. '_[FM]-([A-Z]+)-'",
    );
  }
  // An alternative that matches the empty string reveals how many groups the pattern has.
  const groups = new RegExp(`${rule}|`).exec('')!.length - 1;
  if (groups === 0) {
    throw new VisemoError(
      `--group-by '${rule}' has no capture group, so it names no group`,
      "put the part of the path that names the group in parentheses, e.g. '_[FM]-([A-Z]+)-'",
    );
  }
  return { kind: 'regex', pattern };
}

/** The rule in a few words, for reports. */
export function describeRule(rule: GroupRule, text: string): string {
  if (rule.kind === 'dataset') return 'one group per DATA folder';
  if (rule.kind === 'csv') return `the columns of ${rule.file}`;
  return `the regular expression ${text} on each image's path inside its DATA folder`;
}

/**
 * The breakdowns a rule gives for `items`. Throws a VisemoError when no image gets a group, and
 * when a CSV names files that do not exist.
 */
export async function assignGroups(rule: GroupRule, ruleText: string, items: GroupedItem[], dataArgs: string[]): Promise<Breakdown[]> {
  let breakdowns: Breakdown[];
  if (rule.kind === 'dataset') {
    const names = datasetNames(dataArgs);
    breakdowns = [{ name: 'dataset', groups: items.map((it) => names[it.data]!) }];
  } else if (rule.kind === 'regex') {
    breakdowns = [{ name: regexName(rule.pattern), groups: items.map((it) => regexGroup(rule.pattern, it.rel)) }];
  } else {
    breakdowns = await csvBreakdowns(rule.file, items, dataArgs);
  }
  if (items.length > 0 && breakdowns.every((b) => b.groups.every((g) => g === null))) {
    const example = items[0]!.rel;
    if (rule.kind === 'regex') {
      throw new VisemoError(
        `no image matched --group-by '${ruleText}' (${items.length} images, e.g. ${example})`,
        "the expression is matched against each image's path inside its DATA folder (class folder included); its first capture group names the group",
      );
    }
    throw new VisemoError(
      `${rule.kind === 'csv' ? rule.file : 'the rule'} gives a group to none of the ${items.length} images of ${dataArgs.join(', ')} (e.g. ${example})`,
      "name the images by their path relative to the CSV's folder or to a DATA folder, and fill the attribute columns",
    );
  }
  return breakdowns;
}

/** Each DATA folder's group name: its folder name, or the path as given where two share a name. */
export function datasetNames(dataArgs: string[]): string[] {
  const base = dataArgs.map((d) => path.basename(path.resolve(d)));
  return dataArgs.map((d, i) => (base.filter((b) => b === base[i]).length > 1 ? d.replace(/[\\/]+$/, '') : base[i]!));
}

function regexName(pattern: RegExp): string {
  const named = Object.keys(new RegExp(`${pattern.source}|`, pattern.flags).exec('')!.groups ?? {});
  return named[0] ?? 'group';
}

/** The first capture group that took part in the match (a named one first), or null. */
export function regexGroup(pattern: RegExp, rel: string): string | null {
  const m = pattern.exec(rel);
  if (!m) return null;
  const named = m.groups ? Object.values(m.groups).find((g) => g !== undefined && g !== '') : undefined;
  const g = named ?? m.slice(1).find((x) => x !== undefined && x !== '');
  return g ?? null;
}

/** Minimal RFC 4180 reading: commas, double-quoted fields with "" for a quote, CRLF or LF. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  // A BOM (spreadsheets write one) is not part of the first column's name; blank lines are not rows.
  if (rows[0]?.[0]) rows[0][0] = rows[0][0].replace(/^\uFEFF/, '');
  return rows.filter((r) => r.some((f) => f.trim() !== ''));
}

async function csvBreakdowns(file: string, items: GroupedItem[], dataArgs: string[]): Promise<Breakdown[]> {
  const rows = parseCsv(await fs.readFile(file, 'utf8'));
  const header = rows[0]?.map((h) => h.trim()) ?? [];
  if (header.length < 2) {
    throw new VisemoError(
      `${file} has ${header.length === 0 ? 'no header row' : 'no attribute column'}`,
      'give a header row such as file,origin,gender, then one row per image: the file first, then its attributes',
    );
  }
  const byPath = new Map(items.map((it, i) => [it.path, i]));
  const roots = dataArgs.map((d) => path.resolve(d));
  const csvDir = path.dirname(file);
  const values: (string | null)[][] = header.slice(1).map(() => items.map(() => null));
  const missing: string[] = [];
  for (let r = 1; r < rows.length; r++) {
    const name = rows[r]![0]!.trim();
    const candidates = [path.resolve(csvDir, name), ...roots.map((root) => path.resolve(root, name))];
    const index = candidates.map((c) => byPath.get(c)).find((i) => i !== undefined);
    if (index === undefined) {
      // A file outside the DATA folders (another part of the same dataset) is fine; one that is nowhere is not.
      if (
        !(
          await Promise.all(
            candidates.map((c) =>
              fs.stat(c).then(
                () => true,
                () => false,
              ),
            ),
          )
        ).some(Boolean)
      )
        missing.push(`${name} (line ${r + 1})`);
      continue;
    }
    header.slice(1).forEach((_, c) => {
      const v = rows[r]![c + 1]?.trim() ?? '';
      values[c]![index] = v === '' ? null : v;
    });
  }
  if (missing.length > 0) {
    throw new VisemoError(
      `${file} names ${missing.length} file${missing.length === 1 ? '' : 's'} that ${missing.length === 1 ? 'does' : 'do'} not exist: ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}`,
      "fix or remove those rows: a file is named by its path relative to the CSV's folder or to a DATA folder",
    );
  }
  return header.slice(1).map((name, c) => ({ name, groups: values[c]! }));
}
