/**
 * The known key a mistyped one most likely meant: same key in another case, a common synonym, a
 * prefix ("language" -> "lang") or a small edit ("prot" -> "port"). Undefined when nothing is close,
 * so the error lists the known keys instead of guessing wildly.
 */
export function closestKey(
  key: string,
  known: readonly string[],
  synonyms: Readonly<Partial<Record<string, string>>> = {},
): string | undefined {
  const wanted = key.toLowerCase();
  const lowered = known.map((candidate) => [candidate, candidate.toLowerCase()] as const);
  const same = lowered.find(([, lower]) => lower === wanted);
  if (same) return same[0];
  const synonym = synonyms[wanted];
  if (synonym !== undefined && known.includes(synonym)) return synonym;

  let best: { key: string; distance: number } | undefined;
  for (const [candidate, lower] of lowered) {
    const distance = editDistance(wanted, lower);
    if (distance <= allowedEdits(lower) && (!best || distance < best.distance)) best = { key: candidate, distance };
  }
  if (best) return best.key;
  const prefix = lowered.find(
    ([, lower]) => Math.min(lower.length, wanted.length) >= 3 && (wanted.startsWith(lower) || lower.startsWith(wanted)),
  );
  return prefix?.[0];
}

/** Short keys tolerate one edit (`pot` -> `port` but not `url` -> `run`), longer ones a third of their length. */
function allowedEdits(candidate: string): number {
  return candidate.length <= 4 ? 1 : Math.max(2, Math.floor(candidate.length / 3));
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const width = b.length + 1;
  // One flat (a+1) x (b+1) table, row by row.
  const d = new Uint16Array((a.length + 1) * width);
  const at = (i: number, j: number): number => d[i * width + j] ?? 0;
  for (let i = 0; i <= a.length; i++) d[i * width] = i;
  for (let j = 0; j <= b.length; j++) d[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, at(i - 2, j - 2) + 1);
      d[i * width + j] = value;
    }
  }
  return at(a.length, b.length);
}
