// The simulator role's fault admin: loopback by default, and a token required to listen anywhere else.
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog/catalog.ts';
import { ConfigError, loadConfig } from '../../core/config.ts';
import { startSimulator } from '../../dev/simulator/server.ts';

describe('simulator role', () => {
  it('listens on loopback by default and refuses another address without an admin token', () => {
    expect(loadConfig({}, ['simulator']).simulator.host).toBe('127.0.0.1');
    expect(() => loadConfig({ SIMULATOR_HOST: '0.0.0.0' }, ['simulator'])).toThrow(ConfigError);
    expect(() => loadConfig({ SIMULATOR_HOST: '0.0.0.0' }, ['simulator'])).toThrow(/SIMULATOR_ADMIN_TOKEN/);
    expect(loadConfig({ SIMULATOR_HOST: '0.0.0.0', SIMULATOR_ADMIN_TOKEN: 'token-0123456789' }, ['simulator']).simulator.adminToken).toBe('token-0123456789');
  });

  it('with a token, the fault admin answers only to it', async () => {
    const sim = await startSimulator({ catalog: loadCatalog(), adminToken: 'token-0123456789' });
    try {
      expect((await fetch(`${sim.url}/admin/faults`)).status).toBe(401);
      expect((await fetch(`${sim.url}/admin/faults`, { headers: { authorization: 'Bearer token-0123456789' } })).status).toBe(200);
    } finally {
      await sim.close();
    }
  });
});
