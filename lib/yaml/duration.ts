/** Durations as playbooks write them (`3min`, `30d`, `90s`, `200ms`) → seconds. */

const UNIT_SECONDS: Readonly<Record<string, number>> = { ms: 0.001, s: 1, sec: 1, min: 60, m: 60, h: 3600, d: 86400 };

export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|sec|s|min|m|h|d)$/;

/** Seconds in `text`, or undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_PATTERN.exec(text.trim());
  return m ? Number(m[1]) * UNIT_SECONDS[m[2]] : undefined;
}

/** 4500 → "1h 15min"; 90 → "1min 30s". */
export function formatDuration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  const parts: string[] = [];
  let rest = Math.round(seconds);
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['min', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join(' ');
}
