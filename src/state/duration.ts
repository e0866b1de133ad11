const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/**
 * Parses a duration like `250ms`, `90s`, `15m`, `6h`, `30d`, `2w`, or several joined like `1d12h`,
 * into milliseconds; undefined when the text is not one. Used by the config, the CLI and `!prune`.
 */
export function parseDuration(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (!/^(\d{1,15}(ms|s|m|h|d|w))+$/.test(t)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of t.matchAll(/(\d+)(ms|s|m|h|d|w)/g)) {
    ms += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** Renders milliseconds in the largest unit that divides it exactly, e.g. 2592000000 → `30d`. */
export function formatExactDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    if (ms > 0 && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
