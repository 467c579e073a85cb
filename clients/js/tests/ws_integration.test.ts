// The client over real sockets (the `ws` package, on a loopback port picked by the OS): connect,
// snapshot, a dropped TCP connection, and a resume with since, with every frame the client sends
// checked against the schemas. Real timers, but no fixed sleeps: each step waits for its event.

import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';

import { validateClientFrame } from '@tickstream/contract';
import { WebSocket as NodeWebSocket, WebSocketServer, type WebSocket as ServerSocket } from 'ws';

import { TickstreamClient, type ClientEvents, type WebSocketConstructor } from '../src/index.js';
import { order, position } from './support.js';

function once<K extends keyof ClientEvents>(client: TickstreamClient, type: K, pred: (p: ClientEvents[K]) => boolean = () => true, ms = 5000): Promise<ClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${String(type)} within ${ms} ms`)), ms);
    const off = client.on(type, (p) => {
      if (!pred(p)) return;
      clearTimeout(timer);
      off();
      resolve(p);
    });
  });
}

describe('over real WebSockets', () => {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const received: unknown[][] = [];
  const sockets: ServerSocket[] = [];
  after(() => server.close());

  server.on('connection', (socket) => {
    const mine: unknown[] = [];
    received.push(mine);
    sockets.push(socket);
    socket.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { type: string; id?: number; since?: number };
      mine.push(msg);
      if (msg.type === 'ping') {
        socket.send(JSON.stringify({ type: 'pong', id: msg.id, server_time: '2026-11-20T14:30:00.000000Z', server_time_us: 1, node: `edge-${sockets.length}` }));
      } else if (msg.type === 'subscribe') {
        socket.send(JSON.stringify({ type: 'subscribed', symbols: [], channels: ['positions', 'orders', 'account', 'trades'], rejected: [], batch_ms: 0 }));
        if (msg.since === undefined) {
          socket.send(JSON.stringify({ type: 'snapshot', seq: 3, positions: [position(3, 'AAPL', '10')], orders: [], account: null }));
        } else {
          // Replays what came after since: seq 4 was sent on the first connection just before it died.
          socket.send(JSON.stringify({ type: 'batch', events: [order(4, 'o-1', 'new'), order(5, 'o-1', 'filled')] }));
        }
      }
    });
  });

  it('connects, takes the snapshot, survives a dropped connection and resumes from held', async () => {
    await new Promise<void>((resolve) => (server.address() ? resolve() : server.once('listening', () => resolve())));
    const port = (server.address() as AddressInfo).port;
    const client = new TickstreamClient({
      url: `ws://127.0.0.1:${port}/ws`,
      WebSocket: NodeWebSocket as unknown as WebSocketConstructor,
      channels: ['positions', 'orders', 'account', 'trades'],
      backoff: { baseMs: 20, capMs: 100 },
      reconcileMs: 0,
      probeRefusals: false,
      network: null,
    });
    try {
      const snapshotApplied = new Promise<void>((resolve) => {
        const off = client.store.subscribe((c) => {
          if (c.state.held === 3) {
            off();
            resolve();
          }
        });
      });
      const node = once(client, 'node');
      client.connect();
      await snapshotApplied;
      assert.equal(await node, 'edge-1');
      assert.equal(client.state, 'connected');

      // An event, then the TCP connection dies without a close frame.
      const applied4 = new Promise<void>((resolve) => {
        const off = client.store.subscribe((c) => c.state.held === 4 && (off(), resolve()));
      });
      sockets[0]?.send(JSON.stringify(order(4, 'o-1', 'new')));
      await applied4;
      const reconnecting = once(client, 'state', (s) => s.state === 'reconnecting');
      const back = once(client, 'state', (s) => s.state === 'connected');
      sockets[0]?.terminate();
      assert.equal((await reconnecting).reason, 'connection_lost');
      await back;
      const resumed = new Promise<void>((resolve) => {
        const off = client.store.subscribe((c) => c.state.held === 5 && (off(), resolve()));
      });
      await resumed;
      const st = client.store.getState();
      assert.equal(st.orders.size, 0, 'o-1 filled');
      assert.equal(st.positions.get('AAPL')?.data.quantity, '10');
      const secondSubscribe = received[1]?.find((m) => (m as { type: string }).type === 'subscribe') as { since?: number };
      assert.equal(secondSubscribe.since, 4);
      for (const frames of received) for (const f of frames) assert.deepEqual(validateClientFrame(f).errors, [], JSON.stringify(f));
    } finally {
      client.close();
    }
  });
});
