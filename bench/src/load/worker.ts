/**
 * A load-generator worker: a child process holding a share of the client
 * connections, driven by the orchestrator (../run.ts) over IPC. Connections
 * are numbered globally; each worker holds the ones it was told to open.
 *
 * Latency is measured inside the message: the sender writes its
 * process.hrtime() (CLOCK_MONOTONIC, the same clock in every process on the
 * machine) into the text, and whoever receives it subtracts.
 */
import { Histogram } from '../lib/histogram.js';
import { openClient, type ChatClient, type ChatEvent } from './clients.js';
import type {
  Command,
  DoneNotice,
  EchoPhase,
  FanoutPhase,
  JoinResult,
  OpenResult,
  Phase,
  PhaseStats,
  Reply,
  RoomsPhase,
  StopResult,
} from './messages.js';

const clients = new Map<number, ChatClient>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowNs = () => {
  const [s, ns] = process.hrtime();
  return s * 1e9 + ns;
};

/** `id:time` padded with dots to exactly `bytes` ASCII bytes. */
function stamp(id: number | string, bytes: number): string {
  const s = `${id}:${nowNs()}`;
  return s.length >= bytes ? s : s + '.'.repeat(bytes - s.length);
}
function parseStamp(text: string): { id: number; ns: number } {
  const colon = text.indexOf(':');
  let end = text.indexOf('.', colon);
  if (end < 0) end = text.length;
  return { id: Number(text.slice(0, colon)), ns: Number(text.slice(colon + 1, end)) };
}

// ---- measuring ---------------------------------------------------------------

const stats = {
  measuring: false,
  since: 0,
  received: 0,
  sent: 0,
  errors: 0,
  firstError: undefined as string | undefined,
  hist: new Histogram(),
};

function resetStats(): void {
  stats.received = 0;
  stats.sent = 0;
  stats.errors = 0;
  stats.firstError = undefined;
  stats.hist.reset();
  stats.since = nowNs();
}

function noteError(ev: ChatEvent): void {
  stats.errors++;
  stats.firstError ??= `${ev.code}: ${ev.message}`;
}

// ---- the running phase ---------------------------------------------------------

interface Running {
  /** Messages sent and not yet complete. */
  outstanding(): number;
  /** Stop sending (what is in flight still arrives). */
  halt(): void;
  conns: number[];
  onDone?: (notice: DoneNotice) => void;
}
let running: Running | undefined;

function client(conn: number): ChatClient {
  const c = clients.get(conn);
  if (!c) throw new Error(`connection ${conn} is not open in this worker`);
  return c;
}

function startFanout(p: FanoutPhase): Running {
  const local = p.members.length;
  const counts = new Map<number, number>();
  const reports = new Map<number, number>(); // sender only: workers done with message i
  let next = 0;
  let active = true;
  let timer: NodeJS.Timeout | undefined;
  const sender = p.sender === undefined ? undefined : client(p.sender);

  const send = () => {
    const i = next++;
    reports.set(i, 0);
    const id = `${p.tag}-${i}`;
    sender!.send({ type: 'send', room: p.room, text: stamp(i, p.textBytes), clientMsgId: id, ref: id });
    if (stats.measuring) stats.sent++;
  };
  const senderDone = (i: number) => {
    const seen = reports.get(i);
    if (seen === undefined) return; // not this phase's, or already complete
    const n = seen + 1;
    if (n < p.workers) {
      reports.set(i, n);
      return;
    }
    reports.delete(i);
    if (active && p.mode === 'window') send();
  };
  const localDone = (i: number) => {
    if (sender) senderDone(i);
    else process.send!({ ev: 'done', tag: p.tag, i } satisfies DoneNotice);
  };

  for (const conn of p.members) {
    client(conn).onEvent = (ev) => {
      if (ev.type !== 'message' || ev.room !== p.room) {
        if (ev.type === 'error') noteError(ev);
        return;
      }
      const { id, ns } = parseStamp(ev.text!);
      if (stats.measuring) {
        stats.received++;
        stats.hist.recordNs(nowNs() - ns);
      }
      const c = (counts.get(id) ?? 0) + 1;
      if (c < local) counts.set(id, c);
      else {
        counts.delete(id);
        localDone(id);
      }
    };
  }

  if (sender) {
    if (p.mode === 'window') {
      for (let k = 0; k < p.window; k++) send();
    } else {
      const t0 = nowNs();
      timer = setInterval(() => {
        const due = Math.floor(((nowNs() - t0) / 1e9) * p.rate);
        while (next < due) send();
      }, Math.max(1, Math.min(10, 1000 / p.rate / 2)));
    }
  }
  return {
    conns: p.members,
    outstanding: () => reports.size,
    halt: () => {
      active = false;
      if (timer) clearInterval(timer);
    },
    onDone: sender ? (notice: DoneNotice) => notice.tag === p.tag && senderDone(notice.i) : undefined,
  } as Running;
}

/**
 * Scenario 1 with reactions: every member counts each `reaction` event, the
 * sender keeps one reaction in flight per message of the window (the next
 * goes once every worker has seen the last). Latency is the sender's: from
 * its react to its own copy, which the server sends in the same fan-out as
 * everyone's (a reaction carries no text to stamp a time into).
 */
function startReactionFanout(p: FanoutPhase): Running {
  const local = p.members.length;
  const counts = new Map<number, number>(); // message id → local copies of its latest reaction
  const reports = new Map<number, number>(); // sender only: message id → workers done
  const sentAt = new Map<number, number>();
  const added = new Map<number, boolean>();
  let active = true;
  let n = 0;
  const sender = p.sender === undefined ? undefined : client(p.sender);

  const react = (id: number) => {
    const add = !(added.get(id) ?? false);
    added.set(id, add);
    reports.set(id, 0);
    sentAt.set(id, nowNs());
    sender!.send({ type: add ? 'react' : 'unreact', room: p.room, id, emoji: '👍', ref: `${p.tag}-r${n++}` });
    if (stats.measuring) stats.sent++;
  };
  const senderDone = (id: number) => {
    const seen = reports.get(id);
    if (seen === undefined) return;
    if (seen + 1 < p.workers) {
      reports.set(id, seen + 1);
      return;
    }
    reports.delete(id);
    if (active) react(id);
  };
  const localDone = (id: number) => {
    if (sender) senderDone(id);
    else process.send!({ ev: 'done', tag: p.tag, i: id } satisfies DoneNotice);
  };

  for (const conn of p.members) {
    const c = client(conn);
    c.onEvent = (ev) => {
      if (ev.type === 'error') return noteError(ev);
      if (ev.type !== 'reaction' || ev.room !== p.room || ev.id === undefined) return;
      const id = ev.id;
      if (stats.measuring) {
        stats.received++;
        if (c === sender && ev.ref !== undefined) stats.hist.recordNs(nowNs() - sentAt.get(id)!);
      }
      const seen = (counts.get(id) ?? 0) + 1;
      if (seen < local) counts.set(id, seen);
      else {
        counts.delete(id);
        localDone(id);
      }
    };
  }

  if (sender) {
    // The messages reacted to, one per slot of the window: sent (and acknowledged) first.
    const targets: number[] = [];
    const asMember = sender.onEvent;
    sender.onEvent = (ev) => {
      if (ev.type === 'message' && typeof ev.ref === 'string' && ev.ref.startsWith(`${p.tag}-t`) && ev.id !== undefined) {
        targets.push(ev.id);
        if (targets.length === p.window) {
          sender.onEvent = asMember;
          for (const id of targets) react(id);
        }
        return;
      }
      asMember(ev);
    };
    for (let k = 0; k < p.window; k++) {
      const id = `${p.tag}-t${k}`;
      sender.send({ type: 'send', room: p.room, text: 'react to me', clientMsgId: id, ref: id });
    }
  }
  return {
    conns: p.members,
    outstanding: () => reports.size,
    halt: () => {
      active = false;
    },
    onDone: sender ? (notice: DoneNotice) => notice.tag === p.tag && senderDone(notice.i) : undefined,
  } as Running;
}

function startRooms(p: RoomsPhase): Running {
  const n = p.rooms.length;
  const rate = p.perRoomRate * n;
  let sentTotal = 0;
  let expected = 0;
  let receivedTotal = 0;
  const conns: number[] = [];
  for (const { room, conns: members } of p.rooms) {
    for (const conn of members) {
      conns.push(conn);
      client(conn).onEvent = (ev) => {
        if (ev.type !== 'message' || ev.room !== room) {
          if (ev.type === 'error') noteError(ev);
          return;
        }
        receivedTotal++;
        if (stats.measuring) {
          stats.received++;
          stats.hist.recordNs(nowNs() - parseStamp(ev.text!).ns);
        }
      };
    }
  }
  const t0 = nowNs();
  // Open loop: the schedule does not wait for answers, as real rooms do not.
  const timer = setInterval(() => {
    const due = Math.floor(((nowNs() - t0) / 1e9) * rate);
    for (; sentTotal < due; sentTotal++) {
      const k = sentTotal;
      const { room, conns: members } = p.rooms[k % n]!;
      const from = members[Math.floor(k / n) % members.length]!;
      const id = `${p.tag}-${k}`;
      client(from).send({ type: 'send', room, text: stamp(k, p.textBytes), clientMsgId: id, ref: id });
      expected += members.length;
      if (stats.measuring) stats.sent++;
    }
  }, 5);
  return {
    conns,
    outstanding: () => expected - receivedTotal,
    halt: () => clearInterval(timer),
  };
}

function startEcho(p: EchoPhase): Running {
  let inFlight = 0;
  let active = true;
  let seq = 0;
  const conns: number[] = [];
  const primers: Array<() => void> = [];
  for (const [conn, room] of p.conns) {
    conns.push(conn);
    const c = client(conn);
    const send = () => {
      const id = `${p.tag}-${seq++}`;
      c.send({ type: 'send', room, text: stamp(0, p.textBytes), clientMsgId: id, ref: id });
      inFlight++;
      if (stats.measuring) stats.sent++;
    };
    c.onEvent = (ev) => {
      if (ev.type !== 'message' || ev.room !== room) {
        if (ev.type === 'error') noteError(ev);
        return;
      }
      inFlight--;
      if (stats.measuring) {
        stats.received++;
        stats.hist.recordNs(nowNs() - parseStamp(ev.text!).ns);
      }
      // Closed loop: each answer lets the next message go.
      if (active) send();
    };
    primers.push(send);
  }
  for (const send of primers) for (let k = 0; k < p.window; k++) send();
  return {
    conns,
    outstanding: () => inFlight,
    halt: () => {
      active = false;
    },
  };
}

function startPhase(p: Phase): void {
  if (running) throw new Error('a phase is already running');
  resetStats();
  running =
    p.kind === 'fanout'
      ? p.event === 'reaction'
        ? startReactionFanout(p)
        : startFanout(p)
      : p.kind === 'rooms'
        ? startRooms(p)
        : startEcho(p);
}

// ---- commands --------------------------------------------------------------------

async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}

async function open(cmd: Extract<Command, { cmd: 'open' }>): Promise<OpenResult> {
  const hist = new Histogram();
  const result: OpenResult = { opened: 0, failed: 0, firstStartNs: nowNs(), lastDoneNs: 0, hist: [] };
  const { target } = cmd;
  const one = async (k: number) => {
    const conn = cmd.conns[k]!;
    const t0 = nowNs();
    try {
      const c = await openClient({ kind: target.kind, url: target.url, token: target.tokens?.[k], timeoutMs: cmd.timeoutMs });
      clients.get(conn)?.close();
      clients.set(conn, c);
      result.opened++;
      result.lastDoneNs = nowNs();
      hist.recordNs(result.lastDoneNs - t0);
    } catch (err) {
      result.failed++;
      result.firstError ??= err instanceof Error ? err.message : String(err);
    }
  };
  if (!cmd.ratePerSec) {
    await pool(
      cmd.conns.map((_, k) => k),
      cmd.concurrency,
      one,
    );
  } else {
    // Paced: connection k starts at k / rate seconds, whatever the others are doing
    // (at most `concurrency` handshakes outstanding, so a stalled server is not buried).
    const rate = cmd.ratePerSec;
    let started = 0;
    let outstanding = 0;
    const all: Promise<void>[] = [];
    const t0 = nowNs();
    await new Promise<void>((resolve) => {
      const tick = () => {
        const due = Math.min(cmd.conns.length, Math.floor(((nowNs() - t0) / 1e9) * rate) + 1);
        while (started < due && outstanding < cmd.concurrency) {
          outstanding++;
          all.push(one(started++).finally(() => outstanding--));
        }
        if (started >= cmd.conns.length) return resolve();
        setTimeout(tick, 2);
      };
      tick();
    });
    await Promise.all(all);
  }
  result.hist = hist.toArray();
  return result;
}

async function join(cmd: Extract<Command, { cmd: 'join' }>): Promise<JoinResult> {
  const result: JoinResult = { joined: 0, failed: 0 };
  await pool(cmd.assign, cmd.concurrency, async ([conn, room]) => {
    const c = client(conn);
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        result.firstError ??= `no answer to join ${room} within 60 s`;
        resolve(false);
      }, 60_000);
      c.onEvent = (ev) => {
        if (ev.type === 'joined' && ev.room === room) {
          clearTimeout(timer);
          resolve(true);
        } else if (ev.type === 'error') {
          clearTimeout(timer);
          result.firstError ??= `${ev.code}: ${ev.message}`;
          resolve(false);
        }
      };
      // As the web client joins: presence in batches (a room filling up costs one notice per turn, not per arrival).
      c.send({ type: 'join', room, presence: 'batched' });
    });
    c.onEvent = () => {};
    if (ok) result.joined++;
    else result.failed++;
  });
  return result;
}

function measure(on: boolean): PhaseStats | undefined {
  if (on) {
    resetStats();
    stats.measuring = true;
    return undefined;
  }
  stats.measuring = false;
  const seconds = (nowNs() - stats.since) / 1e9;
  let lost = 0;
  for (const conn of running?.conns ?? []) if (clients.get(conn)?.lost) lost++;
  return {
    received: stats.received,
    sent: stats.sent,
    seconds,
    hist: stats.hist.toArray(),
    errors: stats.errors,
    ...(stats.firstError === undefined ? {} : { firstError: stats.firstError }),
    lost,
  };
}

async function stop(timeoutMs: number): Promise<StopResult> {
  const r = running;
  if (!r) return { outstanding: 0 };
  r.halt();
  const deadline = Date.now() + timeoutMs;
  while (r.outstanding() > 0 && Date.now() < deadline) await sleep(5);
  // The handlers stay until the next phase replaces them: in a fan-out, this
  // worker's members must keep reporting what is still in flight to the sender's.
  running = undefined;
  return { outstanding: r.outstanding() };
}

async function closeAll(): Promise<{ closed: number }> {
  const n = clients.size;
  for (const c of clients.values()) c.close();
  clients.clear();
  // Let the closes reach the sockets before answering.
  await sleep(50);
  return { closed: n };
}

async function handle(cmd: Command): Promise<unknown> {
  switch (cmd.cmd) {
    case 'open':
      return open(cmd);
    case 'join':
      return join(cmd);
    case 'start':
      startPhase(cmd.phase);
      return null;
    case 'measure':
      return measure(cmd.on) ?? null;
    case 'stop':
      return stop(cmd.timeoutMs);
    case 'close':
      return closeAll();
  }
}

process.on('message', (msg: (Command & { id: number }) | DoneNotice) => {
  if ('ev' in msg) {
    running?.onDone?.(msg);
    return;
  }
  handle(msg).then(
    (result) => process.send!({ id: msg.id, ok: true, result } satisfies Reply),
    (err: unknown) => process.send!({ id: msg.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies Reply),
  );
});
process.on('disconnect', () => process.exit(0));
process.send!({ ready: true });
