import { useSyncExternalStore, type ReactNode } from 'react';

import { Account, BackupNotice, ConnectionBadge, OfflineNotice, Orders, Positions, SignInStatus, StaleBanner, Trades, Watchlist } from './components.js';
import type { DemoSession } from './session.js';

export function App({ session, symbols }: { session: DemoSession; symbols: readonly string[] }): ReactNode {
  const signIn = useSyncExternalStore(session.onSignIn, session.getSignIn, session.getSignIn);
  const signedOut = signIn.kind === 'signed_out';
  return (
    <div className="app">
      <header>
        <h1>Tickstream</h1>
        <SignInStatus state={signIn} />
        <ConnectionBadge />
      </header>
      <StaleBanner />
      <BackupNotice />
      <OfflineNotice />
      <main>
        <Watchlist symbols={symbols} />
        {signedOut ? (
          <section className="card" data-testid="signed-out">
            <h2>Portfolio</h2>
            <p className="empty">Not signed in: showing public market data only.</p>
          </section>
        ) : (
          <>
            <Account />
            <Positions />
            <Orders />
            <Trades />
          </>
        )}
      </main>
    </div>
  );
}
