// What the supervisor's processes share without Kafka: the signals and preference tables, the routers' spend figures and the
// demo's keys. The supervisor keeps the latest value of each topic's key, as a compacted topic would, and
// relays every change to the other processes over their IPC channels; a process that (re)starts receives
// everything kept before it serves. The values are the same encoded messages the Kafka topics carry, so
// readers check them with the same decoders. Telemetry never goes this way: it travels through the durable
// local log.

export const HUB_TOPICS = ['signals', 'preference', 'spend', 'keys', 'service'] as const;
export type HubTopic = (typeof HUB_TOPICS)[number];
export type Entries = [key: string, value: string][];

/** Between the supervisor and its processes (the `sb` field tells them from other IPC messages). */
export type HubMessage =
  | { sb: 'subscribe' }
  | { sb: 'publish'; topic: HubTopic; entries: Entries }
  | { sb: 'entries'; topic: HubTopic; entries: Entries }
  | { sb: 'caught_up' }
  | { sb: 'listening'; url: string }
  /** The supervisor's order to stop (signals reach a whole process group; only this one counts). */
  | { sb: 'stop' };

export interface HubPeer {
  send(message: HubMessage): unknown;
  readonly connected: boolean;
}

export const isHubMessage = (m: unknown): m is HubMessage => typeof m === 'object' && m !== null && typeof (m as { sb?: unknown }).sb === 'string';

/** The supervisor's side: the kept values and the processes attached. */
export class Hub {
  private readonly kept = new Map<HubTopic, Map<string, string>>(HUB_TOPICS.map((t) => [t, new Map()]));
  private readonly peers = new Set<HubPeer>();

  /** Handles a process's hub messages; returns the others (listening) for the supervisor. */
  receive(from: HubPeer, message: unknown): HubMessage | undefined {
    if (!isHubMessage(message)) return undefined;
    if (message.sb === 'subscribe') {
      this.peers.add(from);
      for (const [topic, values] of this.kept) if (values.size > 0) this.sendTo(from, { sb: 'entries', topic, entries: [...values] });
      this.sendTo(from, { sb: 'caught_up' });
      return undefined;
    }
    if (message.sb === 'publish') {
      if (this.kept.has(message.topic) && Array.isArray(message.entries)) this.keep(message.topic, message.entries, from);
      return undefined;
    }
    return message;
  }

  detach(peer: HubPeer): void {
    this.peers.delete(peer);
  }

  value(topic: HubTopic, key: string): string | undefined {
    return this.kept.get(topic)?.get(key);
  }

  /** The supervisor's own values (the public URL), kept and relayed as a process's are. */
  publish(topic: HubTopic, entries: Entries): void {
    this.keep(topic, entries, undefined);
  }

  /** Keeps the latest of each key and relays the change to every process but the one it came from. */
  private keep(topic: HubTopic, entries: Entries, from: HubPeer | undefined): void {
    const values = this.kept.get(topic)!;
    for (const [k, v] of entries) values.set(k, v);
    for (const peer of this.peers) if (peer !== from) this.sendTo(peer, { sb: 'entries', topic, entries });
  }

  private sendTo(peer: HubPeer, message: HubMessage): void {
    // A process that just died is detached by its exit event; until then a send may fail.
    if (peer.connected) {
      try {
        peer.send(message);
      } catch {
        this.peers.delete(peer);
      }
    }
  }
}

type Listener = (entries: Entries) => void;

/** A supervised process's side, over its IPC channel (`process.send`). */
export class HubClient {
  private readonly listeners = new Map<HubTopic, Listener[]>();
  private caughtUp: Promise<void> | undefined;

  /** Present only in a process the supervisor started. */
  static ofThisProcess(): HubClient | undefined {
    return process.send ? new HubClient() : undefined;
  }

  on(topic: HubTopic, listener: Listener): void {
    this.listeners.set(topic, [...(this.listeners.get(topic) ?? []), listener]);
  }

  /** Asks for everything kept; resolves once it has been handed to the listeners registered so far. */
  subscribe(): Promise<void> {
    this.caughtUp ??= new Promise<void>((resolve) => {
      process.on('message', (m: unknown) => {
        if (!isHubMessage(m)) return;
        if (m.sb === 'caught_up') resolve();
        else if (m.sb === 'entries') for (const l of this.listeners.get(m.topic) ?? []) l(m.entries);
      });
      this.send({ sb: 'subscribe' });
    });
    return this.caughtUp;
  }

  publish(topic: HubTopic, entries: Entries): void {
    if (entries.length > 0) this.send({ sb: 'publish', topic, entries });
  }

  tell(message: HubMessage): void {
    this.send(message);
  }

  private send(message: HubMessage): void {
    // The supervisor gone: this process stops on the channel's disconnect (service/main.ts).
    if (process.connected) process.send!(message);
  }
}
