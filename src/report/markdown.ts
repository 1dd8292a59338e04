/** The report as Markdown, figures linked as PNG copies (for READMEs and code hosts). */
import type { ReportDocument, Table } from './document.js';

const escapeCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function markdownTable(t: Table): string {
  const head = `| ${t.columns.map(escapeCell).join(' | ')} |`;
  // Numeric columns right-aligned, text columns left.
  const numeric = t.columns.map((_, i) => t.rows.some((r) => r[i]?.value !== undefined));
  const rule = `|${numeric.map((n) => (n ? ' ---: ' : ' --- ')).join('|')}|`;
  const body = t.rows.map((r) => `| ${r.map((c) => escapeCell(c.text)).join(' | ')} |`);
  return [`*${t.caption}* ([CSV](tables/${t.id}.csv))`, '', head, rule, ...body].join('\n');
}

export function renderMarkdown(doc: ReportDocument): string {
  const out: string[] = [`# ${doc.title}`, ''];
  out.push(...doc.sections.map((s) => `- [${s.title}](#${s.id})`), '');
  for (const section of doc.sections) {
    out.push(`<a id="${section.id}"></a>`, '', `## ${section.title}`, '');
    for (const b of section.blocks) {
      if (b.kind === 'paragraph') out.push(b.text, '');
      else if (b.kind === 'table' && !b.table.csvOnly) out.push(markdownTable(b.table), '');
      else if (b.kind === 'table') out.push(`${b.table.caption}: [tables/${b.table.id}.csv](tables/${b.table.id}.csv)`, '');
      else if (b.kind === 'figure')
        out.push(`![${escapeCell(b.figure.caption)}](figures/${b.figure.id}.png)`, '', `*${b.figure.caption}* ([SVG](figures/${b.figure.id}.svg))`, '');
      else out.push('```text', b.text, '```', '');
    }
  }
  return out.join('\n');
}
