// Kafka for the test suite: KAFKA_BROKERS when given; otherwise the project's own broker (scripts/kafka.sh,
// Apache Kafka from Maven Central) when java and mvn are present; otherwise Kafka suites skip, saying why.
// With CI=true a broker is required: its absence fails the run instead of skipping.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    kafkaSkipReason: string;
  }
}

const has = (cmd: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/** The suites that run the service as its own process run the compiled build, as production does. */
function buildOnce(): void {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: join(import.meta.dirname, '..'), stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000 });
}

export default function setup(project: TestProject): (() => void) | undefined {
  buildOnce();
  if (process.env.KAFKA_BROKERS) {
    project.provide('kafkaBrokers', process.env.KAFKA_BROKERS);
    project.provide('kafkaSkipReason', '');
    return undefined;
  }
  const missing = ['java', 'mvn'].filter((c) => !has(c));
  if (missing.length > 0) {
    const reason = `no KAFKA_BROKERS and no ${missing.join(' or ')} to run the project's own broker`;
    if (process.env.CI === 'true') throw new Error(`CI=true needs Kafka: ${reason}`);
    project.provide('kafkaBrokers', '');
    project.provide('kafkaSkipReason', reason);
    return undefined;
  }
  const state = mkdtempSync(join(tmpdir(), 'switchboard-kafka-'));
  const env = { ...process.env, KAFKA_STATE_DIR: state };
  const script = join(import.meta.dirname, '..', 'scripts', 'kafka.sh');
  const port = String(19_200 + (process.pid % 500));
  const out = execFileSync(script, ['start', port], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 300_000 });
  const brokers = /KAFKA_BROKERS=(\S+)/.exec(out)?.[1];
  if (!brokers) throw new Error(`scripts/kafka.sh did not report a broker:\n${out}`);
  project.provide('kafkaBrokers', brokers);
  project.provide('kafkaSkipReason', '');
  return () => {
    execFileSync(script, ['stop'], { env, stdio: 'inherit' });
    rmSync(state, { recursive: true, force: true });
  };
}
