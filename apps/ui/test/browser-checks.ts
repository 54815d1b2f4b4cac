// Checks the browser test runs on every page: accessibility (axe-core, injected into the page) and
// tables that fit their container. Page scripts are strings: this code compiles without DOM types.
import type { Page } from 'playwright-core';

const axeScript = require.resolve('axe-core/axe.min.js');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/**
 * axe-core's serious and critical findings on the page as it is now, one line each with up to
 * three elements it names. Minor and moderate ones are left to judgement (the issue's bar).
 */
export async function seriousAxeFindings(page: Page): Promise<string[]> {
  if (!(await page.evaluate<boolean>('typeof window.axe === "object"'))) await page.addScriptTag({ path: axeScript });
  const violations = await page.evaluate<AxeViolation[]>(
    `window.axe.run(document, { resultTypes: ['violations'] }).then((result) => result.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      // a contrast finding names its colours, so the fix does not need a rerun to find them
      targets: v.nodes.map((n) => {
        const data = (n.any[0] || {}).data;
        const colours = data && data.fgColor ? ' (' + data.fgColor + ' on ' + data.bgColor + ': ' + data.contrastRatio + ':1)' : '';
        return n.target.join(' ') + colours;
      }),
    })))`,
  );
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact ?? ''}): ${v.help} at ${v.targets.slice(0, 3).join(' | ')}${v.targets.length > 3 ? ` and ${String(v.targets.length - 3)} more` : ''}`,
    );
}

/**
 * Tables that do not fit: a table box that scrolls sideways (its content wider than it), or a
 * header or cell whose right edge is past the table's or the window's. Empty when all fit.
 */
export async function clippedTables(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`(() => {
    const problems = [];
    document.querySelectorAll('.ant-table-wrapper').forEach((wrapper, index) => {
      const name = 'table ' + (index + 1);
      for (const box of wrapper.querySelectorAll('.ant-table-container, .ant-table-content, .ant-table-body')) {
        if (box.scrollWidth > box.clientWidth + 1) problems.push(name + ': ' + box.className.split(' ')[0] + ' is ' + box.scrollWidth + ' px wide in ' + box.clientWidth + ' px');
      }
      const right = Math.min(wrapper.getBoundingClientRect().right, window.innerWidth);
      for (const cell of wrapper.querySelectorAll('th, td')) {
        const edge = cell.getBoundingClientRect().right;
        if (edge > right + 1) problems.push(name + ': "' + (cell.textContent || '').trim().slice(0, 40) + '" ends at ' + Math.round(edge) + ' px, past ' + Math.round(right) + ' px');
      }
    });
    return problems;
  })()`);
}
