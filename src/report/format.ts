/** Number formats shared by the HTML, Markdown and CSV renderings, so all three show the same figures. */

export const ratio = (x: number): string => x.toFixed(3);
export const seconds = (s: number): string => (s >= 100 ? s.toFixed(0) : s >= 10 ? s.toFixed(1) : s.toFixed(2));
export const integer = (n: number): string => n.toLocaleString('en-US');
export const sizeLabel = (size: number): string => `${size}×${size}`;

/** Wall time as "1 h 02 min", "3 min 05 s" or "12.3 s". */
export function duration(totalSeconds: number): string {
  if (totalSeconds < 60) return `${totalSeconds.toFixed(1)} s`;
  const s = Math.round(totalSeconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h} h ${String(m).padStart(2, '0')} min` : `${m} min ${String(sec).padStart(2, '0')} s`;
}

/** Backends that compute on a GPU get their own column in Table 2, as the paper's GPU runs do. */
export function isGpuBackend(name: string): boolean {
  return /gpu|cuda|webgl|tensorflow-gpu/i.test(name);
}
