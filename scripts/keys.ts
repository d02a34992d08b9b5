// `npm run keys -- create --name NAME [--account ID] [--org ORG] [--management] [--rate-limit N] [--spend-limit USD]`
// `npm run keys -- revoke ID_OR_NAME` · `npm run keys -- list`
// The operator's key file, DATA_DIR/keys.json (hashes only; the secret is printed once, at creation): the
// running service takes each change into its key store and audit log within a second. A first management
// key made here manages the rest over HTTP (/api/v1/keys).
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { KeyFile } from '../governance/key-file.ts';

function usage(message?: string): never {
  if (message) process.stderr.write(`keys: ${message}\n`);
  process.stderr.write(
    'usage: npm run keys -- create --name NAME [--account ID] [--org ORG] [--management] [--rate-limit N] [--spend-limit USD]\n       npm run keys -- revoke ID_OR_NAME\n       npm run keys -- list\n',
  );
  process.exit(2);
}

function positiveNumber(flag: string, raw: string | undefined, integer: boolean): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) usage(`${flag} must be a positive ${integer ? 'integer' : 'number'}`);
  return n;
}

const [command, ...rest] = process.argv.slice(2);
const store = new KeyFile(join(resolve(process.env.DATA_DIR || './data'), 'keys.json'));

if (command === 'create') {
  const { values } = parseArgs({
    args: rest,
    options: {
      name: { type: 'string' },
      account: { type: 'string' },
      org: { type: 'string' },
      management: { type: 'boolean' },
      'rate-limit': { type: 'string' },
      'spend-limit': { type: 'string' },
    },
    strict: true,
  });
  if (!values.name) usage('create needs --name');
  for (const [flag, v] of [
    ['--account', values.account],
    ['--org', values.org],
  ] as const)
    if (v !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(v)) usage(`${flag} must be 1 to 64 letters, digits, '_', '.' or '-'`);
  const { secret, record } = store.create({
    name: values.name,
    accountId: values.account,
    orgId: values.org,
    management: values.management,
    rateLimitPerMinute: positiveNumber('--rate-limit', values['rate-limit'], true),
    spendLimitUsd: positiveNumber('--spend-limit', values['spend-limit'], false),
  });
  process.stdout.write(`${secret}\n`);
  process.stderr.write(
    `created ${record.management ? 'management key' : 'key'} ${record.id} "${record.name}" for account ${record.account_id} of organisation ${record.org_id}; the key above is shown only this once\n`,
  );
} else if (command === 'revoke') {
  if (rest.length !== 1) usage('revoke needs one key id or name');
  const revoked = store.revoke(rest[0]);
  if (revoked.length === 0) {
    process.stderr.write(`keys: no active key with id or name ${JSON.stringify(rest[0])}\n`);
    process.exit(1);
  }
  for (const r of revoked) process.stdout.write(`revoked ${r.id} "${r.name}"\n`);
} else if (command === 'list') {
  for (const r of store.read()) {
    process.stdout.write(
      `${r.id}\t${r.name}\t${r.account_id}\t${r.org_id}${r.management ? '\tmanagement' : ''}\t${r.revoked_at ? `revoked ${r.revoked_at}` : 'active'}\trate=${r.rate_limit_per_minute ?? 'default'}/min\tspend_limit=${r.spend_limit_usd ?? 'none'}\n`,
    );
  }
} else usage(command ? `unknown command ${command}` : undefined);
