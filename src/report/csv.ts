/** Tables as CSV: exact values where a cell has one, its text otherwise. */
import type { Table } from './document.js';

function field(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function tableToCsv(table: Table): string {
  const lines = [table.columns.map(field).join(',')];
  for (const row of table.rows) {
    lines.push(row.map((c) => (c.value !== undefined ? String(c.value) : c.text === '—' ? '' : field(c.text))).join(','));
  }
  return `${lines.join('\n')}\n`;
}
