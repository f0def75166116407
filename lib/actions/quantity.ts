/**
 * Kubernetes resource quantities (`512Mi`, `1.5Gi`, `250m`, `2`, `1e3`), read the way the API
 * server reads them (k8s.io/apimachinery/pkg/api/resource), and memory written back in the
 * binary form people read (`1536Mi`).
 */
import { InvalidParameterError } from './errors';

const BINARY: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Readonly<Record<string, number>> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** The API server's quantity grammar: a signed decimal number, then a binary or decimal suffix or an exponent. */
const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

/** True when `text` is a quantity the API server accepts. */
export function isQuantity(text: string): boolean {
  return QUANTITY.test(text.trim());
}

/**
 * A quantity in base units: bytes for memory, cores for CPU (`250m` → 0.25).
 * @throws InvalidParameterError naming the text when it is not a quantity
 * @example parseQuantity('1.5Gi') // 1610612736
 */
export function parseQuantity(text: string | number): number {
  if (typeof text === 'number') {
    if (!Number.isFinite(text)) throw new InvalidParameterError(`not a quantity: ${text}`);
    return text;
  }
  const m = QUANTITY.exec(text.trim());
  if (!m) throw new InvalidParameterError(`not a Kubernetes quantity: "${text}" (e.g. 512Mi, 2Gi, 250m)`);
  const value = Number(m[1]);
  const suffix = m[2] ?? '';
  if (/^[eE]/.test(suffix)) return value * 10 ** Number(suffix.slice(1));
  return value * (BINARY[suffix] ?? DECIMAL[suffix] ?? 1);
}

/**
 * Bytes as a memory quantity: the largest binary suffix that divides them exactly (`3Gi`,
 * `1536Mi`), else plain bytes.
 */
export function formatMemory(bytes: number): string {
  const whole = Math.round(bytes);
  for (const suffix of ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki'] as const) {
    const unit = BINARY[suffix] as number;
    if (whole >= unit && whole % unit === 0) return `${whole / unit}${suffix}`;
  }
  return String(whole);
}

/** Bytes rounded up to a whole mebibyte: memory limits are set in Mi, never below what was asked. */
export function roundUpToMebibyte(bytes: number): number {
  return Math.ceil(bytes / 2 ** 20) * 2 ** 20;
}

/** Cores as a CPU quantity: whole cores as `2`, otherwise millicores (`250m`). */
export function formatCpu(cores: number): string {
  const milli = Math.round(cores * 1000);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}
