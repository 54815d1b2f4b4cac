/** Runs every cleanup step even when earlier ones fail, then reports the failures together. */
export async function cleanupAll(steps: readonly (readonly [string, () => Promise<unknown>])[]): Promise<void> {
  const failures: string[] = [];
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (error) {
      failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (failures.length > 0) console.warn(`e2e cleanup: ${failures.length} step(s) failed:\n${failures.join('\n')}`);
}
