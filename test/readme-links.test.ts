/**
 * The README is the front door and docs/ holds the rest: this keeps the README short (at most 250
 * lines), every relative link in README.md and docs/**\/*.md pointing at a file that exists (and,
 * for a link into a Markdown file, at a heading it has), and every docs page reachable from the
 * docs index. Pure file reading: no build, no network.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const README_MAX_LINES = 250;

/** README.md and every .md under docs/, as paths relative to the repository root. */
function markdownFiles(): string[] {
  const out = ['README.md'];
  const walk = (dir: string): void => {
    for (const name of readdirSync(path.join(ROOT, dir)).sort()) {
      const rel = path.join(dir, name);
      if (statSync(path.join(ROOT, rel)).isDirectory()) walk(rel);
      else if (name.endsWith('.md')) out.push(rel);
    }
  };
  if (existsSync(path.join(ROOT, 'docs'))) walk('docs');
  return out;
}

/** The text outside fenced code blocks and inline code spans, where Markdown links live. */
function prose(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** The targets of the inline links and images in `text` ([label](target "title")). */
function linkTargets(text: string): string[] {
  return [...prose(text).matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
}

/** GitHub's anchors for the headings of a Markdown file (lower case, punctuation dropped, spaces as hyphens, repeats numbered). */
function headingAnchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  const withoutFences = text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  for (const m of withoutFences.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const plain = m[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '');
    const base = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Why a relative link from `file` does not resolve, or null when it does (external links: null). */
function brokenLink(file: string, target: string): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return null; // https:, mailto:, …
  const [rawPath, anchor] = target.split('#', 2) as [string, string | undefined];
  const linked = rawPath === '' ? file : path.join(path.dirname(file), decodeURIComponent(rawPath));
  if (path.relative(ROOT, path.resolve(ROOT, linked)).startsWith('..')) return `${target}: outside the repository`;
  if (!existsSync(path.join(ROOT, linked))) return `${target}: no such file ${linked}`;
  if (anchor !== undefined && linked.endsWith('.md')) {
    const anchors = headingAnchors(readFileSync(path.join(ROOT, linked), 'utf8'));
    if (!anchors.has(anchor)) return `${target}: ${linked} has no heading #${anchor}`;
  }
  return null;
}

test(`README.md is at most ${README_MAX_LINES} lines`, () => {
  const lines = readFileSync(path.join(ROOT, 'README.md'), 'utf8').replace(/\n$/, '').split('\n').length;
  assert.ok(lines <= README_MAX_LINES, `README.md has ${lines} lines; move detail into docs/`);
});

test('every relative link in README.md and docs/**/*.md resolves, anchors included', () => {
  const files = markdownFiles();
  assert.ok(files.includes(path.join('docs', 'README.md')), 'docs/README.md, the index, exists');
  const broken: string[] = [];
  let checked = 0;
  for (const file of files) {
    for (const target of linkTargets(readFileSync(path.join(ROOT, file), 'utf8'))) {
      checked++;
      const why = brokenLink(file, target);
      if (why) broken.push(`${file}: ${why}`);
    }
  }
  assert.deepEqual(broken, []);
  assert.ok(checked >= files.length, `only ${checked} links in ${files.length} files: is the link pattern still matching?`);
});

test('the README links to the docs index, and every docs page is linked from the index or a page it links to', () => {
  const readmeLinks = linkTargets(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
  assert.ok(
    readmeLinks.some((t) => t.split('#')[0] === 'docs/README.md'),
    'README.md links to docs/README.md',
  );
  const pages = markdownFiles().filter((f) => f !== 'README.md');
  const reached = new Set<string>([path.join('docs', 'README.md')]);
  const queue = [...reached];
  while (queue.length) {
    const file = queue.shift()!;
    for (const target of linkTargets(readFileSync(path.join(ROOT, file), 'utf8'))) {
      const rel = target.split('#')[0]!;
      if (!rel.endsWith('.md') || /^[a-z][a-z0-9+.-]*:/i.test(rel)) continue;
      const linked = path.normalize(path.join(path.dirname(file), rel));
      if (pages.includes(linked) && !reached.has(linked)) {
        reached.add(linked);
        queue.push(linked);
      }
    }
  }
  assert.deepEqual(
    pages.filter((p) => !reached.has(p)),
    [],
  );
});

test('the link and anchor readers follow GitHub: code is not a link, anchors drop punctuation and number repeats', () => {
  const text = [
    "# The paper's experiment: `visemo experiment`",
    '## Results',
    '## Results',
    'See [a](docs/a.md#x), ![img](fig.png "title") and <https://example.com>.',
    '`[not](a-link.md)`',
    '```',
    '[not](either.md)',
    '# not a heading',
    '```',
  ].join('\n');
  assert.deepEqual(linkTargets(text), ['docs/a.md#x', 'fig.png']);
  assert.deepEqual([...headingAnchors(text)], ['the-papers-experiment-visemo-experiment', 'results', 'results-1']);
});

/** The paths the README's Layout section names at the start of its block's lines (`src/config`, `models/`, …). */
function layoutPaths(readme: string): string[] {
  const section = readme.slice(readme.indexOf('## Layout'));
  const block = /```\n([\s\S]*?)```/.exec(section);
  assert.ok(block, "README.md's Layout section has a code block");
  return block[1]!
    .split('\n')
    .map((line) => /^(\S+)/.exec(line)?.[1])
    .filter((p): p is string => p !== undefined)
    .map((p) => p.replace(/\/$/, ''));
}

test("the README's Layout names every folder of src/ and every top-level folder it lists exists", () => {
  const named = layoutPaths(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
  const srcFolders = readdirSync(path.join(ROOT, 'src'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => `src/${e.name}`);
  const missing = srcFolders.filter((f) => !named.includes(f));
  assert.deepEqual(missing, [], `folders of src/ missing from the README's Layout: ${missing.join(', ')}`);
  const absent = named.filter((p) => !existsSync(path.join(ROOT, p)));
  assert.deepEqual(absent, [], `the README's Layout names paths that do not exist: ${absent.join(', ')}`);
  const entries = readdirSync(path.join(ROOT, 'src')).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  const unnamed = entries.filter((f) => !readFileSync(path.join(ROOT, 'README.md'), 'utf8').includes(`src/${f}`));
  assert.deepEqual(unnamed, [], `entry files of src/ the README's Layout does not name: ${unnamed.join(', ')}`);
});
