/** `visemo audit`'s terminal output: per breakdown and model, the group table, the tests and the sentence saying what they mean. */
import { fixed, formatTable } from '../util/table.js';
import { formatDifference, formatWithInterval } from './intervals.js';
import { formatP } from './mcnemar.js';
import { accuracyText, mostOverPredicted, type BreakdownAudit } from './audit.js';
import type { AuditResult } from './run-audit.js';

const short = (c: string) => c.slice(0, 5);

/** More pairs of groups than this, and the terminal lists only the significant ones. */
export const MAX_PAIRS_SHOWN = 45;

/** The over-called class of a group, as `neutral +35 pp`, or '—'. */
export function overCalled(g: Parameters<typeof mostOverPredicted>[0], classes: string[]): string {
  const o = mostOverPredicted(g, classes);
  return o ? `${o.class} +${(o.excess * 100).toFixed(0)} pp` : '—';
}

export function formatBreakdown(b: BreakdownAudit, r: Pick<AuditResult, 'classes' | 'minGroup' | 'models'>): string {
  const out: string[] = [];
  const groups = b.models[0]?.groups ?? [];
  out.push(
    `by ${b.name}: ${groups.length} group${groups.length === 1 ? '' : 's'}, ${b.n} images${b.ungrouped ? ` (${b.ungrouped} without a ${b.name} left out)` : ''}`,
  );
  for (const m of b.models) {
    out.push('', `${m.model}: accuracy ${accuracyText(m.overall)} over all ${m.overall.n}, macro F1 ${fixed(m.overall.macroF1)}`);
    out.push(
      formatTable(
        ['group', 'n', 'accuracy (95% CI)', 'macro F1', ...r.classes.map((c) => `${short(c)} R`), 'most over-called'],
        m.groups.map((g) => [
          g.tested ? g.group : `${g.group}*`,
          g.n,
          accuracyText(g),
          fixed(g.macroF1),
          ...g.recall.map((x) => (x === null ? '—' : fixed(x, 2))),
          overCalled(g, r.classes),
        ]),
      ),
    );
    // Many groups make many pairs (227 people: 1,596): then only the significant ones are listed here.
    const many = m.pairs.length > MAX_PAIRS_SHOWN;
    const shown = many ? m.pairs.filter((p) => p.significant) : m.pairs;
    if (many)
      out.push(
        '',
        `${m.pairs.length} pairs of groups: ${shown.length ? 'the significant ones below' : 'none significant'}; every pair is in audit.json (and the report's pairs CSV with -o).`,
      );
    if (shown.length > 0) {
      out.push(
        '',
        formatTable(
          ['groups', 'difference (95% CI)', 'p', 'p Holm', 'p < 0.05'],
          shown.map((p) => [`${p.first} − ${p.second}`, formatDifference(p.difference), formatP(p.p), formatP(p.pHolm), p.significant ? 'yes' : 'no']),
        ),
      );
    }
    out.push(m.summary);
  }
  if (b.models.length > 1) {
    out.push('', 'model × group accuracy (95% CI)');
    out.push(
      formatTable(
        ['group', 'n', ...b.models.map((m) => m.model)],
        groups.map((g, k) => [g.group, g.n, ...b.models.map((m) => formatWithInterval(m.groups[k]!.accuracy, m.groups[k]!.interval))]),
      ),
    );
    out.push('', 'within each group, exact McNemar between models (b: only the first right, c: only the second; not corrected for the number of groups)');
    out.push(
      formatTable(
        ['group', 'models', 'b', 'c', 'p', 'p < 0.05'],
        b.modelPairs.map((t) => [t.group, `${r.models[t.first]!.model} vs ${r.models[t.second]!.model}`, t.b, t.c, formatP(t.p), t.significant ? 'yes' : 'no']),
      ),
    );
  }
  if (b.leftOut.length > 0) out.push(`* under --min-group ${r.minGroup}: shown, left out of the between-group tests.`);
  return out.join('\n');
}

export function formatAudit(r: AuditResult): string {
  const head =
    `${r.scored} of ${r.images} images scored${r.skipped.length ? ` (${r.skipped.length} skipped: ${r.crops ? 'unreadable' : 'no face found or unreadable'})` : ''}; ` +
    `${r.crops ? 'face crops used as given' : `faces found by the ${r.detector} detector and cut as each model's training faces`}; classes ${r.classes.join(', ')}\n` +
    'R: recall of the class. Intervals: 95 % Wilson (differences: Newcombe), treating images as independent.';
  return [head, ...r.breakdowns.map((b) => formatBreakdown(b, r))].join('\n\n');
}
