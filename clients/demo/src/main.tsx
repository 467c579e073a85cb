import type { FetchLike } from '@tickstream/client';
import { TickstreamProvider } from '@tickstream/react';
import { createRoot } from 'react-dom/client';

import { App } from './App.js';
import { demoConfig } from './config.js';
import { createDemoSession } from './session.js';
import './styles.css';

// Seams for browser tests, set before this script runs (e.g. with an init script):
//   window.__tickstreamGetToken = async () => '<JWT>'   authenticate in-band with tokens instead of the cookie.
// The running client is window.__tickstream (its store and status can be read from a test).
const page = window as unknown as { __tickstreamGetToken?: () => Promise<string> | string; __tickstream?: unknown };

const config = demoConfig(window.location);
const session = createDemoSession(config, {
  fetch: ((url, init) => window.fetch(url, init)) as FetchLike,
  ...(typeof page.__tickstreamGetToken === 'function' ? { getToken: page.__tickstreamGetToken } : {}),
});
page.__tickstream = session.client;

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    // The session connects once the development sign-in (if asked for) has set the cookie.
    <TickstreamProvider client={session.client} autoConnect={false}>
      <App session={session} symbols={config.symbols} />
    </TickstreamProvider>,
  );
}
void session.start();
