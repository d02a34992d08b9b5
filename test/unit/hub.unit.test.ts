// The supervisor's hub keeps the latest value per topic and key, relays each change to every other
// process, and hands all it keeps to a process that subscribes (a restart) before anything else; what is
// not a hub message is left to the supervisor. Spend figures through it add up as through the Kafka topic.
import { describe, expect, it } from 'vitest';
import { SpendLedger } from '../../router/auth/spend.ts';
import { Hub, type HubMessage, type HubPeer } from '../../service/supervisor/hub.ts';
import { SpendFleet, baseReports } from '../../telemetry/spend-fleet.ts';

function peer(): HubPeer & { got: HubMessage[] } {
  const got: HubMessage[] = [];
  return { got, send: (m: HubMessage) => got.push(m), connected: true };
}

describe('hub', () => {
  it('relays a change to the other processes only, and keeps the latest value per key', () => {
    const hub = new Hub();
    const [a, b] = [peer(), peer()];
    hub.receive(a, { sb: 'subscribe' });
    hub.receive(b, { sb: 'subscribe' });
    expect(a.got).toEqual([{ sb: 'caught_up' }]);
    hub.receive(a, { sb: 'publish', topic: 'signals', entries: [['e1', 'v1']] });
    hub.receive(a, { sb: 'publish', topic: 'signals', entries: [['e1', 'v2']] });
    expect(b.got.slice(1)).toEqual([
      { sb: 'entries', topic: 'signals', entries: [['e1', 'v1']] },
      { sb: 'entries', topic: 'signals', entries: [['e1', 'v2']] },
    ]);
    expect(a.got).toHaveLength(1);
    expect(hub.value('signals', 'e1')).toBe('v2');
  });

  it('hands a process that subscribes later everything kept, then says it is caught up', () => {
    const hub = new Hub();
    const a = peer();
    hub.receive(a, { sb: 'publish', topic: 'spend', entries: [['r1|k', 'x']] });
    hub.publish('service', [['url', 'http://127.0.0.1:8080']]);
    const late = peer();
    hub.receive(late, { sb: 'subscribe' });
    expect(late.got).toEqual([
      { sb: 'entries', topic: 'spend', entries: [['r1|k', 'x']] },
      { sb: 'entries', topic: 'service', entries: [['url', 'http://127.0.0.1:8080']] },
      { sb: 'caught_up' },
    ]);
  });

  it("returns what is the supervisor's (listening), ignores what is not a hub message, and stops sending to a detached process", () => {
    const hub = new Hub();
    const [a, b] = [peer(), peer()];
    expect(hub.receive(a, { sb: 'listening', url: 'http://x' })).toEqual({ sb: 'listening', url: 'http://x' });
    expect(hub.receive(a, 'hello')).toBeUndefined();
    expect(hub.receive(a, { sb: 'publish', topic: 'nope', entries: [['k', 'v']] })).toBeUndefined();
    hub.receive(b, { sb: 'subscribe' });
    hub.detach(b);
    hub.receive(a, { sb: 'publish', topic: 'keys', entries: [['k', 'v']] });
    expect(b.got).toEqual([{ sb: 'caught_up' }]);
  });

  it("carries spend figures between two routers' ledgers, a base counted from ClickHouse included", () => {
    const hub = new Hub();
    const ledgers = [new SpendLedger(), new SpendLedger()];
    const fleets = ledgers.map((l) => new SpendFleet(l, 60_000));
    const peers = fleets.map((f) => {
      const p: HubPeer = {
        send: (m: HubMessage) => {
          if (m.sb === 'entries' && m.topic === 'spend') for (const [, v] of m.entries) f.take(v);
        },
        connected: true,
      };
      hub.receive(p, { sb: 'subscribe' });
      return p;
    });
    hub.publish('spend', baseReports('clickhouse-1', [['key_a', 0.5]]));
    ledgers[0].reserve('key_a', null, 0.25)!.settle(0.25);
    hub.receive(peers[0], { sb: 'publish', topic: 'spend', entries: fleets[0].changedReports().messages });
    // The second router sees the base and the first router's spend; its own is still zero.
    expect(ledgers[1].spent('key_a')).toBeCloseTo(0.75, 12);
    expect(ledgers[1].own('key_a').settled).toBe(0);
    expect(ledgers[1].reserve('key_a', 0.7, 0.01)).toBeUndefined();
    expect(ledgers[1].reserve('key_a', 0.8, 0.01)).toBeDefined();
  });
});
