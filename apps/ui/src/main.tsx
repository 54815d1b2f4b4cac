import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App, ConfigProvider } from 'antd';
import { KrakenApp } from './app.js';
import { ClusterProvider } from './store.js';

const container = document.getElementById('root');
if (container === null) throw new Error('index.html has no #root element');

createRoot(container).render(
  <StrictMode>
    <ConfigProvider>
      <App>
        <ClusterProvider>
          <KrakenApp />
        </ClusterProvider>
      </App>
    </ConfigProvider>
  </StrictMode>,
);
