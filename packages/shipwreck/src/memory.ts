/** Docker refuses containers with less memory than this. */
export const MIN_MEMORY_MB = 6;
/** 1 TiB: far above any machine Kraken targets; larger values are typos. */
export const MAX_MEMORY_MB = 1024 * 1024;

const SIZE = /^(\d+(?:\.\d+)?)\s*(m|mb|mib|g|gb|gib)$/i;

/**
 * Megabytes for a memory limit written as `"512m"`, `"1.5g"` or a (TOML) number of megabytes.
 * Units are binary like Docker's (1g = 1024m). Undefined when the value is not such a size or
 * is not a whole number of megabytes.
 */
export function parseMemoryMb(value: string | number): number | undefined {
  let mb: number;
  if (typeof value === 'number') {
    mb = value;
  } else {
    const text = value.trim();
    const match = SIZE.exec(text);
    // A bare number in a string is refused: Docker reads "512" as bytes, a manifest reader as MB.
    if (!match) return undefined;
    const amount = Number(match[1]);
    mb = (match[2] ?? 'm').toLowerCase().startsWith('g') ? amount * 1024 : amount;
  }
  return Number.isSafeInteger(mb) ? mb : undefined;
}
