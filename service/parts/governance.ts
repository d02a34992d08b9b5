// Keys and policies in every process that authenticates: the key store (what the key channel delivers, and
// this process's own development and config-file keys), the key authority where ClickHouse is (the
// analytics role), and the channel between them — the compacted topic in cluster mode, the supervisor's hub
// under `npm start`, a direct hand-over when one process does everything.
import { join } from 'node:path';
import { KeyAuthority } from '../../analytics/governance/authority.ts';
import type { Config } from '../../core/config.ts';
import { AuditHeadFile, auditHeadsPath } from '../../governance/audit-heads.ts';
import { KeyFile } from '../../governance/key-file.ts';
import { decodeKeyMessage, encodeKeyMessage, keyMessageKey, keyRecord, type KeyMessage } from '../../governance/key-record.ts';
import { KeyStore, newKeySecret } from '../../router/auth/key-store.ts';
import { CATEGORIES, isCategory } from '../../router/classify.ts';
import type { ClickHouseClient } from '../../store/clickhouse.ts';
import { followKeys, KeyTopicProducer } from '../../telemetry/key-topic.ts';
import { ensureTopics } from '../../telemetry/kafka.ts';
import type { Assembly } from './assembly.ts';

export interface GovernanceParts {
  keys: KeyStore;
  /** The development key: SWITCHBOARD_DEV_KEY, or one made up for this process. */
  devKey: string;
  /** Analytics role: the one writer of keys, policies and the audit log. */
  authority: KeyAuthority | undefined;
}

/** This process's own keys: the development key and the config file's hashed keys. */
function localKeys(config: Config, keys: KeyStore): string {
  const devKey = config.devKey ?? newKeySecret();
  keys.addEphemeral(devKey, 'dev', 'acct_dev');
  for (const k of config.fileKeys) {
    for (const [step, category] of Object.entries(k.autoSteps ?? {}))
      if (!isCategory(category)) throw new Error(`config file: key ${k.name}: autoSteps.${step} is ${JSON.stringify(category)}, not one of ${CATEGORIES.join(', ')}`);
    keys.addLocal(
      keyRecord({
        id: `key_${k.sha256.slice(0, 12)}`,
        name: k.name,
        account_id: k.account,
        hash: k.sha256,
        rate_limit_per_minute: k.rateLimitPerMinute ?? null,
        spend_limit_usd: k.spendLimitUsd ?? null,
        ...(k.autoSteps ? { auto_steps: k.autoSteps } : {}),
      }),
    );
  }
  return devKey;
}

/** The key store, fed by the key channel before the first request; the authority when this process analyzes. */
export async function startGovernance(a: Assembly, clickhouse: ClickHouseClient | undefined): Promise<GovernanceParts> {
  const { config, kafka, hub, logger } = a;
  const keys = new KeyStore();
  const devKey = localKeys(config, keys);
  const log = logger.child({ part: 'keys' });
  const apply = (m: KeyMessage) => keys.apply(m);
  if (!(a.analyzes && clickhouse)) {
    // Only routers authenticate: an ingest process needs no keys.
    if (!a.routes) return { keys, devKey, authority: undefined };
    if (kafka) {
      const consumer = await followKeys(kafka, a.topics.keys, apply, log);
      a.onStop('produce', 'key channel', () => consumer.disconnect().catch(() => undefined));
    } else
      hub?.on('keys', (entries) => {
        for (const [, value] of entries) {
          const d = decodeKeyMessage(value);
          if (d.ok) apply(d.message);
          else log.warn({ reason: d.reason }, 'key channel message skipped');
        }
      });
    return { keys, devKey, authority: undefined };
  }
  // The authority may start before anything else made the topics (the data role's ingest makes them as it can).
  if (kafka) await ensureTopics(kafka, a.topics, config.kafka.partitions);
  const producer = kafka ? new KeyTopicProducer(kafka, a.topics.keys) : undefined;
  const authority = new KeyAuthority({
    clickhouse,
    publish: async (messages) => {
      for (const m of messages) apply(m);
      if (producer) await producer.publish(messages);
      else
        hub?.publish(
          'keys',
          messages.map((m) => [keyMessageKey(m), encodeKeyMessage(m)]),
        );
    },
    file: new KeyFile(join(config.dataDir, 'keys.json')),
    heads: new AuditHeadFile(auditHeadsPath(config.dataDir)),
    log,
  });
  await authority.start();
  // Before the channel closes: the change it may be making is delivered.
  a.onStop('produce', 'key authority', () => authority.stop());
  if (producer) a.onStop('produce', 'key channel', () => producer.stop().catch(() => undefined));
  return { keys, devKey, authority };
}
