/**
 * Holm's (1979) step-down correction for many tests at once: `visemo audit` compares every two
 * groups of people, and with k groups there are k(k − 1)/2 chances to find a gap by luck. Holm
 * keeps the chance of any false "significant" at 5 % and is never less powerful than Bonferroni.
 */

/**
 * Holm-adjusted p-values, in the order given: the i-th smallest p times (m − i + 1), made
 * non-decreasing in that order and capped at 1 (as R's p.adjust(method = "holm")). A test is
 * significant at level α when its adjusted p is below α.
 */
export function holmAdjust(pValues: number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}
