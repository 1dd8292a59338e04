#!/usr/bin/env node
// Import-cycle check: reads every non-test .ts file under src/ (or the folder given), follows its
// relative imports (static `import … from`, `export … from`, side-effect `import '…'` and dynamic
// `import('…')`, type-only ones included) and fails, listing the edges, when
//   (a) top-level folders of src/ import each other, directly or round a longer cycle, or
//   (b) files import each other, directly or round a longer cycle.
// Files directly in src/ (index.ts, version.ts) belong to no folder: they are left out of (a),
// or the entry point re-exporting every folder would tie them all into one cycle.
// Usage: node scripts/check-imports.mjs [srcDir] [--warn]   (--warn prints, and exits 0)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** The source without comments and with strings emptied, but for import specifiers: imports named in prose or data are not imports. */
function stripComments(src) {
  let out = '';
  let i = 0;
  // A '/' after one of these (or at the start, or after a keyword such as `return`) begins a
  // regular expression, not a division.
  const regexAfter = new Set(['', '(', ',', '=', ':', '[', '!', '&', '|', '?', '{', '}', ';', '+', '-', '*', '%', '<', '>', '~', '^']);
  const keywords = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'instanceof', 'new', 'delete', 'void', 'throw', 'yield', 'await']);
  let prev = '';
  while (i < src.length) {
    const c = src[i];
    const n = src[i + 1];
    if (c === '/' && n === '/') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '/' && n === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? src.length : end + 2;
      out += ' ';
    } else if (c === '"' || c === "'" || c === '`') {
      // A specifier (right after `from`, `import` or `import(`) stays; other strings are emptied.
      // A template's `${…}` is skipped over with the rest of the template.
      let j = i + 1;
      while (j < src.length && src[j] !== c && (c === '`' || src[j] !== '\n')) j += src[j] === '\\' ? 2 : 1;
      out += /(?:\bfrom|\bimport)\s*\(?\s*$/.test(out.slice(-24)) ? src.slice(i, j + 1) : c + c;
      i = j + 1;
      prev = c;
    } else if (c === '/' && regexAfter.has(prev)) {
      let j = i + 1;
      let inClass = false;
      while (j < src.length && src[j] !== '\n' && (inClass || src[j] !== '/')) {
        if (src[j] === '\\') j++;
        else if (src[j] === '[') inClass = true;
        else if (src[j] === ']') inClass = false;
        j++;
      }
      out += '/re/';
      i = j + 1;
      prev = '/';
    } else if (/[\w$]/.test(c)) {
      const word = /^[\w$]+/.exec(src.slice(i, i + 64))[0];
      out += word;
      i += word.length;
      prev = keywords.has(word) ? '' : 'x';
    } else {
      out += c;
      if (!/\s/.test(c)) prev = c === ')' || c === ']' || c === '.' ? 'x' : c;
      i++;
    }
  }
  return out;
}

const IMPORT_PATTERNS = [
  /\b(?:import|export)\s[^'"`;]*?\bfrom\s*(['"])([^'"]+)\1/g, // import … from '…', export … from '…'
  /\bimport\s*(['"])([^'"]+)\1/g, // import '…' (side effects only)
  /\bimport\s*\(\s*(['"])([^'"]+)\1\s*\)/g, // import('…'), at run time or in a type
];

/** Relative specifiers a file imports. */
export function importSpecifiers(source) {
  const code = stripComments(source);
  const specs = new Set();
  for (const re of IMPORT_PATTERNS) for (const m of code.matchAll(re)) if (m[2].startsWith('.')) specs.add(m[2]);
  return [...specs];
}

function listTs(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listTs(p));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

/** The .ts file a relative specifier names (NodeNext style: './x.js' is x.ts), or null. */
function resolveSpecifier(fromFile, spec, files) {
  const base = path.resolve(path.dirname(fromFile), spec);
  const candidates = [base, base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), `${base}.ts`, path.join(base, 'index.ts')];
  return candidates.find((c) => files.has(c)) ?? null;
}

/** Strongly connected components with more than one member, or a member importing itself (Tarjan). */
function cycles(graph) {
  let counter = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  const visit = (v) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) === index.get(v)) {
      const scc = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || graph.get(v)?.has(v)) found.push(scc.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/**
 * The cycles under `srcDir`: `folders` and `files`, each a list of { members, edges } where
 * `edges` are the file imports [from, to] (relative to srcDir's parent) that make the cycle.
 */
export function checkImports(srcDir) {
  const root = path.resolve(srcDir);
  const all = listTs(root);
  const files = new Set(all);
  const rel = (f) => path.relative(path.dirname(root), f).split(path.sep).join('/');
  const folderOf = (f) => {
    const parts = path.relative(root, f).split(path.sep);
    return parts.length > 1 ? parts[0] : null;
  };
  const edges = [];
  for (const file of all) {
    for (const spec of importSpecifiers(readFileSync(file, 'utf8'))) {
      const target = resolveSpecifier(file, spec, files);
      if (target) edges.push([file, target]);
    }
  }
  const graphOf = (pairs) => {
    const g = new Map();
    for (const [a, b] of pairs) {
      if (!g.has(a)) g.set(a, new Set());
      g.get(a).add(b);
    }
    return g;
  };
  const fileCycles = cycles(graphOf(edges)).map((members) => {
    const inCycle = new Set(members);
    return { members: members.map(rel), edges: edges.filter(([a, b]) => inCycle.has(a) && inCycle.has(b)).map(([a, b]) => [rel(a), rel(b)]) };
  });
  const crossFolder = edges.filter(([a, b]) => folderOf(a) && folderOf(b) && folderOf(a) !== folderOf(b));
  const folderCycles = cycles(graphOf(crossFolder.map(([a, b]) => [folderOf(a), folderOf(b)]))).map((members) => {
    const inCycle = new Set(members);
    return { members, edges: crossFolder.filter(([a, b]) => inCycle.has(folderOf(a)) && inCycle.has(folderOf(b))).map(([a, b]) => [rel(a), rel(b)]) };
  });
  return { fileCount: all.length, folders: folderCycles, files: fileCycles };
}

function main(argv) {
  const warnOnly = argv.includes('--warn');
  const srcDir = argv.find((a) => !a.startsWith('--')) ?? 'src';
  if (!existsSync(srcDir)) {
    console.error(`check-imports: ${srcDir} not found`);
    return 2;
  }
  const { fileCount, folders, files } = checkImports(srcDir);
  if (folders.length === 0 && files.length === 0) {
    console.log(`check-imports: no folder or file import cycles among ${fileCount} files in ${srcDir}`);
    return 0;
  }
  const print = (kind, found, name) => {
    if (found.length === 0) return;
    console.log(`check-imports: ${found.length} ${kind} cycle${found.length === 1 ? '' : 's'}`);
    for (const c of found) {
      console.log(`  ${c.members.map(name).join(' <-> ')}`);
      for (const [a, b] of c.edges) console.log(`    ${a} -> ${b}`);
    }
  };
  print('folder', folders, (m) => `${path.basename(path.resolve(srcDir))}/${m}/`);
  print('file', files, (m) => m);
  if (warnOnly) console.log('check-imports: --warn given, not failing');
  return warnOnly ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) process.exitCode = main(process.argv.slice(2));
