/** The report as one self-contained HTML file: inline CSS, inline SVG charts, no external requests. */
import type { Cell, ReportDocument, Table } from './document.js';

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const STYLE = `
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; padding-bottom: .3rem; }
nav ol { columns: 2; }
table { border-collapse: collapse; margin: .5rem 0 1.5rem; font-size: .9rem; }
caption { text-align: left; font-style: italic; padding-bottom: .3rem; }
th, td { border: 1px solid #ccc; padding: .25rem .55rem; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr:last-child td { border-bottom: 1px solid #999; }
figure { margin: 1rem 0 2rem; overflow-x: auto; } figcaption { font-style: italic; font-size: .9rem; }
pre { background: #f7f7f7; padding: .6rem; font-size: .8rem; overflow-x: auto; }
.csv { font-size: .8rem; }
`;

function cell(c: Cell, tag: 'td' | 'th' = 'td'): string {
  const attrs = c.value !== undefined ? ` class="num" data-value="${c.value}"` : '';
  return `<${tag}${attrs}>${escapeHtml(c.text)}</${tag}>`;
}

function htmlTable(t: Table): string {
  const head = `<tr>${t.columns.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  const body = t.rows.map((r) => `<tr>${r.map((c) => cell(c)).join('')}</tr>`).join('\n');
  return `<table id="${t.id}"><caption>${escapeHtml(t.caption)} <a class="csv" href="tables/${t.id}.csv">CSV</a></caption>\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody></table>`;
}

export function renderHtml(doc: ReportDocument): string {
  const parts: string[] = [];
  for (const s of doc.sections) {
    parts.push(`<section id="${s.id}">`, `<h2>${escapeHtml(s.title)}</h2>`);
    for (const b of s.blocks) {
      if (b.kind === 'paragraph') parts.push(`<p>${escapeHtml(b.text)}</p>`);
      else if (b.kind === 'table' && !b.table.csvOnly) parts.push(htmlTable(b.table));
      else if (b.kind === 'table')
        parts.push(`<p class="csv">${escapeHtml(b.table.caption)}: <a href="tables/${b.table.id}.csv">tables/${b.table.id}.csv</a></p>`);
      else if (b.kind === 'figure')
        parts.push(`<figure id="fig-${b.figure.id}" class="chart">${b.figure.svg}<figcaption>${escapeHtml(b.figure.caption)}</figcaption></figure>`);
      else parts.push(`<pre>${escapeHtml(b.text)}</pre>`);
    }
    parts.push('</section>');
  }
  const nav = `<nav><ol>${doc.sections.map((s) => `<li><a href="#${s.id}">${escapeHtml(s.title)}</a></li>`).join('')}</ol></nav>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(doc.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(doc.title)}</h1>
${nav}
${parts.join('\n')}
</body>
</html>
`;
}
