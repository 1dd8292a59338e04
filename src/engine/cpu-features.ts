/**
 * The CPU features visemo's compute paths depend on, read in one place: whether the CPU has AVX2,
 * AVX-512, and bf16 arithmetic (avx512_bf16) or AMX tiles (amx_bf16, amx_tile). The precision
 * choice (engine/precision.ts) and the bench read them here; no other file parses /proc/cpuinfo.
 *
 * On Linux they are the `flags` of /proc/cpuinfo. Elsewhere they are unknown, and an unknown
 * feature counts as absent: `known` is false and `describeCpu` says so, so a refusal built on
 * them says why instead of blaming the CPU.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** The flags, as /proc/cpuinfo spells them, that visemo asks about. */
export const CPU_FLAGS = ['avx2', 'avx512f', 'avx512_bf16', 'amx_bf16', 'amx_tile'] as const;
export type CpuFlag = (typeof CPU_FLAGS)[number];

export interface CpuFeatures {
  /** The processor's name ('AMD EPYC 7B13', 'Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz'), or '' if unread. */
  model: string;
  /** false where the flags could not be read (not Linux, no /proc): every flag then reads false. */
  known: boolean;
  /** Why the flags are unknown (with known false). */
  unknownWhy?: string;
  flags: Record<CpuFlag, boolean>;
}

const noFlags = (): Record<CpuFlag, boolean> => Object.fromEntries(CPU_FLAGS.map((f) => [f, false])) as Record<CpuFlag, boolean>;

/**
 * The features in the text of /proc/cpuinfo: the first processor's `model name` and `flags`
 * (every core of one machine reports the same ones). Text without a flags line gives known false.
 */
export function parseCpuinfo(text: string): CpuFeatures {
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim();
  const model = field('model name') ?? '';
  const flagLine = field('flags');
  if (flagLine === undefined) return { model, known: false, unknownWhy: 'the CPU information has no flags line', flags: noFlags() };
  const have = new Set(flagLine.split(/\s+/));
  return { model, known: true, flags: Object.fromEntries(CPU_FLAGS.map((f) => [f, have.has(f)])) as Record<CpuFlag, boolean> };
}

let cached: CpuFeatures | null = null;

/** This machine's features (read once per process). */
export function cpuFeatures(): CpuFeatures {
  if (cached) return cached;
  const model = cpus()[0]?.model?.trim() ?? '';
  if (process.platform !== 'linux') {
    cached = { model, known: false, unknownWhy: `visemo reads CPU features from /proc/cpuinfo, which ${process.platform} lacks`, flags: noFlags() };
    return cached;
  }
  try {
    const parsed = parseCpuinfo(readFileSync('/proc/cpuinfo', 'utf8'));
    cached = { ...parsed, model: parsed.model || model };
  } catch (err) {
    cached = { model, known: false, unknownWhy: `/proc/cpuinfo could not be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, flags: noFlags() };
  }
  return cached;
}

/** Whether the CPU computes in bf16 natively: avx512_bf16 instructions or AMX's bf16 tiles. */
export function hasBf16(f: CpuFeatures): boolean {
  return f.flags.avx512_bf16 || f.flags.amx_bf16;
}

/** The CPU in a few words for a message: its name and whether it has bf16 ('this AMD EPYC 7B13 has neither'). */
export function describeBf16(f: CpuFeatures): string {
  const name = f.model || 'CPU';
  if (!f.known) return `this ${name}'s features are unknown: ${f.unknownWhy ?? 'not read'}`;
  const has = (['avx512_bf16', 'amx_bf16'] as const).filter((x) => f.flags[x]);
  return has.length === 0 ? `this ${name} has neither` : `this ${name} has ${has.join(' and ')}`;
}
