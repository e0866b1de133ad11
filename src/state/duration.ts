const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** Parses a duration like `90s`, `15m`, `6h`, `30d` or `2w` into milliseconds; undefined if malformed. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,9})\s*([smhdw])$/.exec(text.trim());
  if (m === null) return undefined;
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/** Renders milliseconds as the largest whole unit, e.g. 2592000000 → `30d`. */
export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
