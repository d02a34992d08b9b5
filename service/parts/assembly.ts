// What every part of a service shares while it is assembled: configuration, logging, metrics, the Kafka
// client in cluster mode, and the list of shutdown steps each part adds in its stage. A stop runs the
// stages in order — nothing new is made, what was made is sent, reads still running finish, what was sent
// is written, then the engines close — and within a stage, steps in the order the parts added them. Reads
// come before writes: embedded, the ingest worker's close ends the process's one chDB session, and a read
// still running on it then never returns (a stop during the computation ahead hung until the forced exit).
import type { Kafka } from 'kafkajs';
import type { Config } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import type { Metrics } from '../../core/metrics.ts';
import type { Topics } from '../../telemetry/kafka.ts';
import type { HubClient } from '../supervisor/hub.ts';

export const STOP_STAGES = ['produce', 'send', 'read', 'write', 'release', 'engines'] as const;
export type StopStage = (typeof STOP_STAGES)[number];

export interface StopStep {
  name: string;
  run: () => Promise<unknown> | undefined;
  /** Given up past this (logged as an error): a stop must not hang on what only reads. */
  limitMs?: number;
}

export class Assembly {
  private readonly steps = new Map<StopStage, StopStep[]>(STOP_STAGES.map((s) => [s, []]));

  constructor(
    readonly config: Config,
    readonly logger: Logger,
    readonly metrics: Metrics,
    readonly kafka: Kafka | undefined,
    readonly topics: Topics,
    /** Under the supervisor: what its processes share (signals, spend, the demo's keys). */
    readonly hub: HubClient | undefined,
  ) {}

  get routes(): boolean {
    return this.config.role === 'all' || this.config.role === 'router';
  }

  get ingests(): boolean {
    return this.config.role === 'all' || this.config.role === 'ingest' || this.config.role === 'data';
  }

  get analyzes(): boolean {
    return this.config.role === 'all' || this.config.role === 'analytics' || this.config.role === 'data';
  }

  onStop(stage: StopStage, name: string, run: StopStep['run'], limitMs?: number): void {
    this.steps.get(stage)!.push({ name, run, limitMs });
  }

  /** Every step, stage by stage. */
  stopSteps(): StopStep[] {
    return STOP_STAGES.flatMap((s) => this.steps.get(s)!);
  }
}
