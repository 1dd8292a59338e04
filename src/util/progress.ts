import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, payload?: Record<string, string | number>): void;
  stop(): void;
}

/**
 * A progress bar on stderr when it is a terminal (or VISEMO_PROGRESS=1), otherwise silent,
 * so logs and tests stay clean. `format` may name payload keys as {key}.
 */
export function startProgress(total: number, label: string, format = ''): Progress {
  const wanted = process.stderr.isTTY || process.env.VISEMO_PROGRESS === '1';
  if (!wanted || total <= 0) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} {percentage}% eta {eta_formatted}${format ? ` ${format}` : ''}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    update: (done, payload) => bar.update(done, payload ?? {}),
    stop: () => bar.stop(),
  };
}
