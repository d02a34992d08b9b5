// The compacted topic switchboard.signals.v1 in cluster mode: analytics publishes every endpoint's latest
// signal (keyed by endpoint, so compaction keeps one per endpoint) and each category's preference table
// (keyed `preference:<category>`), and every router reads the topic from its beginning into its
// SignalTable and preference scores. Both are ephemeral: a failed send is counted, never retried, because
// the next interval brings a fresher one.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import type { Logger } from '../core/logger.ts';
import { decodeSignal, encodeSignal, type EndpointSignal } from './signal.ts';
import { decodePreferenceTable, encodePreferenceTable, PREFERENCE_KEY_PREFIX, preferenceKey, type PreferenceTable } from './preference-table.ts';

export class SignalProducer {
  private readonly producer: Producer;
  private connected: Promise<void> | undefined;
  sent = 0;
  failed = 0;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    private readonly log: Logger,
  ) {
    this.producer = kafka.producer({ allowAutoTopicCreation: false });
  }

  async publish(signals: readonly EndpointSignal[]): Promise<void> {
    await this.send(
      signals.map((s) => ({ key: s.endpoint_id, value: encodeSignal(s) })),
      'signals not published; routers keep the previous ones until they go stale',
    );
  }

  async publishPreference(tables: readonly PreferenceTable[]): Promise<void> {
    await this.send(
      tables.map((t) => ({ key: preferenceKey(t.category), value: encodePreferenceTable(t) })),
      'preference tables not published; routers keep the previous ones',
    );
  }

  private async send(messages: { key: string; value: string }[], onFailure: string): Promise<void> {
    if (messages.length === 0) return;
    try {
      await (this.connected ??= this.producer.connect().catch((err) => {
        this.connected = undefined;
        throw err;
      }));
      await this.producer.send({ topic: this.topic, acks: 1, messages });
      this.sent += messages.length;
    } catch (err) {
      this.failed += messages.length;
      this.log.warn({ err: (err as Error).message }, onFailure);
    }
  }

  async stop(): Promise<void> {
    await this.producer.disconnect();
  }
}

export class SignalSubscriber {
  private readonly consumer: Consumer;
  rejected = 0;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    private readonly apply: (signals: EndpointSignal[]) => void,
    private readonly log: Logger,
    private readonly applyPreference: (table: PreferenceTable) => void = () => {},
  ) {
    // Every router reads every signal: a group of its own, never shared.
    this.consumer = kafka.consumer({
      groupId: `switchboard-signals-${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
    });
  }

  /** Connects and reads in the background; a broker that is away is retried by kafkajs, routing goes on meanwhile. */
  start(): void {
    void (async () => {
      await this.consumer.connect();
      await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
      await this.consumer.run({
        eachBatch: async ({ batch }) => {
          const signals: EndpointSignal[] = [];
          for (const m of batch.messages) {
            if (m.key?.toString().startsWith(PREFERENCE_KEY_PREFIX)) {
              const t = decodePreferenceTable(m.value);
              if (t.ok) this.applyPreference(t.table);
              else if (m.value !== null) {
                this.rejected++;
                this.log.warn({ offset: m.offset, reason: t.reason }, 'preference table skipped');
              }
              continue;
            }
            const d = decodeSignal(m.value);
            if (d.ok) signals.push(d.signal);
            else if (d.reason !== 'tombstone') {
              this.rejected++;
              this.log.warn({ offset: m.offset, reason: d.reason }, 'signal message skipped');
            }
          }
          this.apply(signals);
        },
      });
    })().catch((err) => this.log.error({ err }, 'signal subscriber stopped; routing falls back to local knowledge'));
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}
