import { StrictMode } from 'react';
import type { ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { App, ConfigProvider } from 'antd';
import { KrakenApp } from './app.js';
import { useDarkMode } from './components/use-dark-mode.js';
import { ClusterProvider } from './store.js';
import { themeFor } from './theme.js';

const container = document.getElementById('root');
if (container === null) throw new Error('index.html has no #root element');

/** Ant Design's light or dark theme, as the system setting says. */
function Themed({ children }: { children: ReactNode }) {
  const dark = useDarkMode();
  return <ConfigProvider theme={themeFor(dark)}>{children}</ConfigProvider>;
}

createRoot(container).render(
  <StrictMode>
    <Themed>
      <App>
        <ClusterProvider>
          <KrakenApp />
        </ClusterProvider>
      </App>
    </Themed>
  </StrictMode>,
);
