#!/usr/bin/env python3
"""Latency probes of the tier from the outside, for the bench scripts (docs/BENCHMARKS.md).

One process, one epoll loop, one clock: the probe sends to the server API or Redis and reads the
WebSocket frames the edges deliver, so a latency is the difference of two readings of the same
monotonic clock. Standard library only: WebSocket (RFC 6455, client side), HTTP/1.1 keep-alive and
RESP are spoken here by hand. Every mode is bounded and exits by itself.

  tier_probe.py publish-latency --api-port P --api-key K --edge-port E --secret S [--rate 1000] [--duration 20]
      single app events (POST /v1/publish) at a bounded rate to users connected to an edge:
      publish sent -> frame received, percentiles
  tier_probe.py disconnect --api-port P --api-key K --edge-ports E1,E2,E3 --secret S [--users 1000] [--per-user 10]
      every user's connections spread over the edges, then one POST /v1/disconnect per user:
      API answer -> close received, percentiles over the connections
  tier_probe.py slot-move --edge-port E --redis-ports R1,R2,R3 [--symbol SYM0] [--moves 20]
      a client on one symbol while ticks flow; the symbol's slot moved from master to master with
      CLUSTER SETSLOT/MIGRATE: move completed -> first tick received, and the longest silence
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import resource
import selectors
import socket
import struct
import sys
import time

now = time.monotonic


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * p / 100.0))]


def summary(label, ms):
    if not ms:
        return "%s: no samples" % label
    return "%s: n %d, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms" % (
        label, len(ms), pct(ms, 50), pct(ms, 90), pct(ms, 99), pct(ms, 99.9), max(ms))


def jwt_hs256(secret, claims):
    def b64(b):
        return base64.urlsafe_b64encode(b).rstrip(b"=")
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64(json.dumps(claims, separators=(",", ":")).encode())
    sig = b64(hmac.new(secret.encode(), head + b"." + body, hashlib.sha256).digest())
    return (head + b"." + body + b"." + sig).decode()


def token_for(secret, user):
    return jwt_hs256(secret, {"sub": user, "exp": int(time.time()) + 3600})


class ws_conn:
    """A non-blocking WebSocket client connection (text frames, masked as a client must)."""

    def __init__(self, sel, port, token=None, tag=None, source_ip=None):
        self.sel, self.port, self.tag = sel, port, tag
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if source_ip:
            self.sock.bind((source_ip, 0))
        self.sock.setblocking(False)
        self.sock.connect_ex(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        auth = "Authorization: Bearer %s\r\n" % token if token else ""
        self.out = ("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n" % (port, key, auth)).encode()
        self.buf = b""
        self.open = False      # the upgrade was answered 101
        self.closed = False    # a close frame or EOF arrived (or the upgrade failed)
        self.close_code = None
        self.closed_at = None
        self.failed = None
        self.frames = []       # (time, text) of the text frames not yet taken
        sel.register(self.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, self)

    def send_text(self, text):
        self.out += self.frame(1, text.encode())
        self.flush()

    @staticmethod
    def frame(op, payload):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | op])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return head + mask + masked

    def flush(self):
        if not self.out or self.closed:
            return
        try:
            sent = self.sock.send(self.out)
            self.out = self.out[sent:]
        except (BlockingIOError, InterruptedError):
            pass
        except OSError as e:
            self.finish(None, "send: %s" % e)
            return
        self.sel.modify(self.sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if self.out else 0), self)

    def finish(self, code, failed=None):
        if self.closed:
            return
        self.closed, self.close_code, self.closed_at = True, code, now()
        if failed and not self.open:
            self.failed = failed
        try:
            self.sel.unregister(self.sock)
        except (KeyError, ValueError):
            pass
        self.sock.close()

    def on_event(self, mask):
        if mask & selectors.EVENT_WRITE:
            self.flush()
        if mask & selectors.EVENT_READ and not self.closed:
            try:
                data = self.sock.recv(262144)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                return self.finish(None, "recv: %s" % e)
            if not data:
                return self.finish(None, "closed during the upgrade")
            t = now()
            self.buf += data
            if not self.open:
                end = self.buf.find(b"\r\n\r\n")
                if end < 0:
                    return
                status = self.buf[:end].split(b"\r\n", 1)[0]
                if b" 101 " not in status + b" ":
                    return self.finish(None, status.decode(errors="replace"))
                self.open = True
                self.buf = self.buf[end + 4:]
            self.parse(t)

    def parse(self, t):
        while len(self.buf) >= 2:
            b0, b1 = self.buf[0], self.buf[1]
            n, at = b1 & 0x7F, 2
            if n == 126:
                if len(self.buf) < 4:
                    return
                n, at = struct.unpack("!H", self.buf[2:4])[0], 4
            elif n == 127:
                if len(self.buf) < 10:
                    return
                n, at = struct.unpack("!Q", self.buf[2:10])[0], 10
            if len(self.buf) < at + n:
                return
            payload, op = self.buf[at:at + n], b0 & 0x0F
            self.buf = self.buf[at + n:]
            if op == 1:
                self.frames.append((t, payload.decode()))
            elif op == 9:  # the edge's heartbeat ping: answer it
                self.out += self.frame(10, payload)
                self.flush()
            elif op == 8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                self.closed_at = t
                return self.finish(code)

    def take(self):
        f, self.frames = self.frames, []
        return f


class http_conn:
    """One kept-alive HTTP/1.1 connection, one request at a time, non-blocking."""

    def __init__(self, sel, port):
        self.sel, self.port = sel, port
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.buf, self.busy, self.sent_at, self.tag, self.out = b"", False, 0.0, None, b""
        self.answers = []  # (tag, status, sent_at, answered_at, body)
        sel.register(self.sock, selectors.EVENT_READ, self)

    def request(self, target, body, headers, tag=None):
        assert not self.busy
        h = "".join("%s: %s\r\n" % kv for kv in headers.items())
        self.out = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n%s"
                    "Content-Length: %d\r\n\r\n" % (target, h, len(body))).encode() + body
        self.busy, self.tag, self.sent_at = True, tag, now()
        self.write()

    def write(self):
        try:
            n = self.sock.send(self.out)
            self.out = self.out[n:]
        except (BlockingIOError, InterruptedError):
            pass
        self.sel.modify(self.sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if self.out else 0), self)

    def on_event(self, mask):
        if mask & selectors.EVENT_WRITE and self.out:
            self.write()
        if not mask & selectors.EVENT_READ:
            return
        t = now()
        data = self.sock.recv(65536)
        if not data:
            raise SystemExit("the server API closed a kept-alive connection")
        self.buf += data
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self.buf[:end].decode()
        length = 0
        for line in head.split("\r\n")[1:]:
            k, _, v = line.partition(":")
            if k.strip().lower() == "content-length":
                length = int(v)
        if len(self.buf) < end + 4 + length:
            return
        body = self.buf[end + 4:end + 4 + length]
        self.buf = self.buf[end + 4 + length:]
        status = int(head.split(" ", 2)[1])
        self.answers.append((self.tag, status, self.sent_at, t, body))
        self.busy = False


def pump(sel, timeout):
    for key, mask in sel.select(timeout):
        key.data.on_event(mask)


def wait_open(sel, conns, limit_s):
    deadline = now() + limit_s
    while now() < deadline and not all(c.open or c.closed for c in conns):
        pump(sel, 0.05)
    bad = [c for c in conns if not c.open]
    if bad:
        raise SystemExit("%d of %d connections did not open (first: %s)" % (len(bad), len(conns), bad[0].failed))


def raise_open_files(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(n, soft)), hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        raise SystemExit("need %d open files, the limit is %d" % (n, soft))


def subscribe_all(sel, conns, message, limit_s=30):
    for c in conns:
        c.send_text(message)
    pending, deadline = set(range(len(conns))), now() + limit_s
    while pending and now() < deadline:
        pump(sel, 0.05)
        for i in list(pending):
            for _, f in conns[i].take():
                if '"type":"subscribed"' in f:
                    pending.discard(i)
    if pending:
        raise SystemExit("%d subscriptions not confirmed" % len(pending))


def publish_latency(a):
    sel = selectors.DefaultSelector()
    users = ["lat-u%d" % i for i in range(a.users)]
    conns = [ws_conn(sel, a.edge_port, token_for(a.secret, u), u) for u in users]
    wait_open(sel, conns, 20)
    subscribe_all(sel, conns, '{"type":"subscribe","channels":["events"]}')
    apis = [http_conn(sel, a.api_port) for _ in range(a.api_connections)]
    headers = {"Authorization": "Bearer " + a.api_key}
    sent, got, api_ms = {}, [], []
    late = 0  # sends that went out more than 1 ms after their time (every API connection busy)
    interval = 1.0 / a.rate
    total = int(a.rate * a.duration)
    start = now()
    n = 0
    while n < total:
        due = start + n * interval
        t = now()
        if t >= due:
            free = next((h for h in apis if not h.busy), None)
            if free is None:
                pump(sel, 0.0002)
            else:
                user = users[n % len(users)]
                body = ('{"user":"%s","type":"bench_event","data":{"n":%d}}' % (user, n)).encode()
                sent[n] = now()
                late += sent[n] - due > 0.001
                free.request("/v1/publish", body, headers, n)
                n += 1
                continue
        else:
            pump(sel, min(due - t, 0.001))
        for c in conns:
            for tr, f in c.take():
                if '"type":"bench_event"' in f:
                    k = json.loads(f)["data"]["n"]
                    got.append((tr - sent[k]) * 1e3)
    deadline = now() + 5
    while len(got) < total and now() < deadline:
        pump(sel, 0.01)
        for c in conns:
            for tr, f in c.take():
                if '"type":"bench_event"' in f:
                    got.append((tr - sent[json.loads(f)["data"]["n"]]) * 1e3)
    elapsed = now() - start
    bad = 0
    for h in apis:
        for _, status, s, e, _ in h.answers:
            api_ms.append((e - s) * 1e3)
            bad += status != 200
    print("published %d single events in %.1f s (%.0f/s) to %d users on one edge; received %d; non-200 answers %d; "
          "sent over 1 ms late %d" % (total, elapsed, total / elapsed, a.users, len(got), bad, late))
    print(summary("publish sent -> frame received", got))
    print(summary("publish sent -> API answered", api_ms))
    return 0 if len(got) == total and bad == 0 else 1


def disconnect(a):
    ports = [int(p) for p in a.edge_ports.split(",")]
    n = a.users * a.per_user
    raise_open_files(n + 200)
    sel = selectors.DefaultSelector()
    conns, by_user = [], {}
    t0 = now()
    # Connection j of user i goes to edge (i * per_user + j) mod edges; opened in waves.
    for i in range(a.users):
        user = "dc-u%d" % i
        tok = token_for(a.secret, user)
        for j in range(a.per_user):
            k = i * a.per_user + j
            c = ws_conn(sel, ports[k % len(ports)], tok, user, "127.0.0.%d" % (2 + k % 200))
            conns.append(c)
            by_user.setdefault(user, []).append(c)
        if len(conns) % 500 == 0:
            wait_open(sel, [c for c in conns[-500:]], 60)
    wait_open(sel, conns, 60)
    print("%d connections of %d users open over %d edges in %.1f s" % (n, a.users, len(ports), now() - t0))
    # Let the leases and the edges settle, answering heartbeat pings meanwhile.
    settle = now() + 2
    while now() < settle:
        pump(sel, 0.05)
    for c in conns:
        c.take()
    apis = [http_conn(sel, a.api_port) for _ in range(a.api_connections)]
    headers = {"Authorization": "Bearer " + a.api_key}
    queue = list(by_user)
    answered = {}
    start = now()
    deadline = start + a.limit
    while now() < deadline:
        for h in apis:
            if not h.busy and queue:
                u = queue.pop(0)
                h.request("/v1/disconnect", ('{"user":"%s","reason":"bench"}' % u).encode(), headers, u)
        pump(sel, 0.01)
        for h in apis:
            for u, status, s, e, body in h.answers:
                answered[u] = (status, e, s)
            h.answers.clear()
        if not queue and len(answered) == len(by_user) and all(c.closed for c in conns):
            break
    calls_s = max(v[1] for v in answered.values()) - start if answered else 0
    lat, from_sent, missing, codes, bad = [], [], 0, {}, 0
    for u, cs in by_user.items():
        status, e, s = answered.get(u, (0, None, None))
        bad += status != 200
        for c in cs:
            if not c.closed or e is None:
                missing += 1
                continue
            codes[c.close_code] = codes.get(c.close_code, 0) + 1
            lat.append((c.closed_at - e) * 1e3)
            from_sent.append((c.closed_at - s) * 1e3)
    print("%d disconnect calls answered in %.2f s (%d API connections); non-200 %d; connections not closed within %d s: "
          "%d; close codes %s" % (len(answered), calls_s, a.api_connections, bad, a.limit, missing, codes))
    print(summary("API answered -> close received (negative: the close came first)", lat))
    print(summary("API call sent -> close received", from_sent))
    early = sum(1 for x in lat if x < 0)
    print("closes before their call's answer: %d" % early)
    return 0 if missing == 0 and bad == 0 else 1


class resp:
    """A blocking RESP client for one Redis node."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.f = self.sock.makefile("rb")

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for x in args:
            x = x if isinstance(x, bytes) else str(x).encode()
            out += b"$%d\r\n%s\r\n" % (len(x), x)
        self.sock.sendall(out)
        return self.read()

    def read(self):
        line = self.f.readline()[:-2]
        k, rest = line[:1], line[1:]
        if k == b"+":
            return rest.decode()
        if k == b"-":
            raise RuntimeError(rest.decode())
        if k == b":":
            return int(rest)
        if k == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data.decode()
        if k == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RuntimeError("bad reply %r" % line)


def slot_move(a):
    ports = [int(p) for p in a.redis_ports.split(",")]
    nodes = {p: resp(p) for p in ports}
    ids = {p: nodes[p].call("CLUSTER", "MYID") for p in ports}
    channel = "ts:{md:%s}" % a.symbol
    slot = nodes[ports[0]].call("CLUSTER", "KEYSLOT", channel)

    def owner():
        for line in nodes[ports[0]].call("CLUSTER", "NODES").splitlines():
            f = line.split()
            if "master" not in f[2]:
                continue
            for r in f[8:]:
                if r.startswith("["):
                    continue
                lo, _, hi = r.partition("-")
                if int(lo) <= slot <= int(hi or lo):
                    return int(f[1].split(":")[1].split("@")[0])
        raise SystemExit("nobody owns slot %d" % slot)

    sel = selectors.DefaultSelector()
    c = ws_conn(sel, a.edge_port)
    wait_open(sel, [c], 10)
    subscribe_all(sel, [c], '{"type":"subscribe","symbols":["%s"]}' % a.symbol)
    ticks = []  # (received, published) of each price update on the symbol: wall-clock seconds
    recv_us = re.compile(r'"recv_us":(\d+)')

    def drain(limit):
        end = now() + limit
        while now() < end:
            pump(sel, max(0.0, min(0.005, end - now())))
            t = time.time()
            for _, f in c.take():
                if '"type":"price_update"' in f:
                    ticks.append((t, int(recv_us.search(f).group(1)) / 1e6))
            if c.closed:
                raise SystemExit("the edge closed the client (code %s)" % c.close_code)

    drain(1.0)
    if not ticks:
        raise SystemExit("no ticks on %s before the moves" % a.symbol)
    first_ms, gap_ms, quiet_ms = [], [], []
    for m in range(a.moves):
        src = owner()
        dst = ports[(ports.index(src) + 1) % len(ports)]
        settle_from = time.time()
        drain(a.settle)
        t_start = time.time()
        # The same measure without a move, over the settling time just before: the tick source's
        # and the machine's own unevenness.
        quiet = sorted(p for _, p in ticks if settle_from <= p <= t_start)
        quiet_ms.append(max((y - x for x, y in zip(quiet, quiet[1:])), default=float("nan")) * 1e3)
        nodes[dst].call("CLUSTER", "SETSLOT", slot, "IMPORTING", ids[src])
        nodes[src].call("CLUSTER", "SETSLOT", slot, "MIGRATING", ids[dst])
        while True:
            keys = nodes[src].call("CLUSTER", "GETKEYSINSLOT", slot, 100)
            if not keys:
                break
            nodes[src].call("MIGRATE", "127.0.0.1", dst, "", 0, 5000, "KEYS", *keys)
        for p in [dst, src] + [p for p in ports if p not in (src, dst)]:
            nodes[p].call("CLUSTER", "SETSLOT", slot, "NODE", ids[dst])
        t_done = time.time()
        # The first tick published after the move (frames read late while the probe was busy with
        # the move are told apart by their publish time, recv_us).
        end = now() + a.limit
        after = []
        while now() < end and not after:
            drain(0.002)
            after = [t for t in ticks if t[1] > t_done]
        if not after:
            print("move %d (:%d -> :%d): no tick within %.1f s" % (m + 1, src, dst, a.limit))
            first_ms.append(a.limit * 1e3)
            continue
        first_ms.append((after[0][0] - t_done) * 1e3)
        # The longest run of publish times with no tick delivered, from the last tick published
        # before the move began to the first one published after it ended.
        published = sorted(p for _, p in ticks)
        window = [max([p for p in published if p <= t_start], default=t_start)]
        window += [p for p in published if t_start < p <= after[0][1]]
        gap_ms.append(max((y - x for x, y in zip(window, window[1:])), default=float("nan")) * 1e3)
        print("move %d (:%d -> :%d) took %.1f ms; the first tick published after it arrived %.2f ms after it; "
              "longest run of ticks not delivered %.2f ms" % (m + 1, src, dst, (t_done - t_start) * 1e3,
                                                                first_ms[-1], gap_ms[-1]))
        del ticks[:-1]
    print("slot %d (%s) moved %d times" % (slot, channel, a.moves))
    print(summary("move completed -> first tick published after it received", first_ms))
    print(summary("longest publish-time gap between delivered ticks around a move", gap_ms))
    print(summary("the same over %.1f s without a move, before each" % a.settle, quiet_ms))
    return 0 if all(x < a.limit * 1e3 for x in first_ms) else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)
    lat = sub.add_parser("publish-latency")
    lat.add_argument("--api-port", type=int, required=True)
    lat.add_argument("--api-key", required=True)
    lat.add_argument("--edge-port", type=int, required=True)
    lat.add_argument("--secret", required=True)
    lat.add_argument("--users", type=int, default=10)
    lat.add_argument("--rate", type=float, default=1000)
    lat.add_argument("--duration", type=float, default=20)
    lat.add_argument("--api-connections", type=int, default=4)
    dc = sub.add_parser("disconnect")
    dc.add_argument("--api-port", type=int, required=True)
    dc.add_argument("--api-key", required=True)
    dc.add_argument("--edge-ports", required=True)
    dc.add_argument("--secret", required=True)
    dc.add_argument("--users", type=int, default=1000)
    dc.add_argument("--per-user", type=int, default=10)
    dc.add_argument("--api-connections", type=int, default=8)
    dc.add_argument("--limit", type=float, default=60, help="seconds the disconnects may take in all")
    sm = sub.add_parser("slot-move")
    sm.add_argument("--edge-port", type=int, required=True)
    sm.add_argument("--redis-ports", required=True)
    sm.add_argument("--symbol", default="SYM0")
    sm.add_argument("--moves", type=int, default=20)
    sm.add_argument("--settle", type=float, default=0.5, help="seconds of ticks before each move")
    sm.add_argument("--limit", type=float, default=5, help="seconds to wait for the first tick after a move")
    a = p.parse_args()
    return {"publish-latency": publish_latency, "disconnect": disconnect, "slot-move": slot_move}[a.mode](a)


if __name__ == "__main__":
    sys.exit(main())
