// Ant Design's themes, light and dark, with the colours that fall short of WCAG AA contrast (4.5:1
// for text; checked by axe-core in the browser test) made darker (light) or lighter (dark).
import { theme } from 'antd';
import type { ThemeConfig } from 'antd';

const light: ThemeConfig = {
  algorithm: theme.defaultAlgorithm,
  token: {
    // blue-7: white on it, it on white and on the selected menu item's blue-1 all pass (#1677ff: 4.0)
    colorPrimary: '#0958d9',
    colorInfo: '#0958d9',
    // red-7: a danger button's text on white, white on a danger button
    colorError: '#cf1322',
    // grey text (secondary text, labels, statistic titles) at 0.45 black reads 3.3:1 on white
    colorTextSecondary: 'rgba(0, 0, 0, 0.65)',
    colorTextTertiary: 'rgba(0, 0, 0, 0.62)',
  },
  components: {
    // tags write their text in the 7th shade of their colour: green and orange need the 8th
    Tag: { green7: '#237804', orange7: '#ad4e00' },
  },
};

/** On dark grey, text needs the lighter shades; a solid button keeps the darker one under dark text. */
const lighterBlue = '#69b1ff';
const lighterRed = '#ff7875';
const dark: ThemeConfig = {
  algorithm: theme.darkAlgorithm,
  token: { colorLink: lighterBlue },
  components: {
    Menu: { itemSelectedColor: lighterBlue },
    // an opened table row on the card's own background: grey text and labels read 4.4:1 on the default #1d1d1d
    Table: { rowExpandedBg: '#141414' },
    Tabs: { itemSelectedColor: lighterBlue, itemActiveColor: lighterBlue, itemHoverColor: lighterBlue },
    Button: { colorError: lighterRed, colorErrorHover: '#ffa39e', dangerColor: '#141414' },
  },
};

export function themeFor(darkMode: boolean): ThemeConfig {
  return darkMode ? dark : light;
}
