// One step of a shutdown at a time, named while it takes long, so a stop that hangs says where.
interface Nagger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Awaits one step of a shutdown, saying which one it is while it takes long: a stop that hangs names its cause. */
export async function waitingFor(step: string, p: Promise<unknown> | undefined, logger: Nagger, limitMs?: number, nagEveryMs = 10_000): Promise<void> {
  const t0 = Date.now();
  const nag = setInterval(() => logger.warn({ step, seconds: Math.round((Date.now() - t0) / 1000) }, `shutdown: still waiting for the ${step}`), nagEveryMs);
  let giveUp: NodeJS.Timeout | undefined;
  try {
    const limit = limitMs === undefined ? undefined : new Promise<'limit'>((resolve) => (giveUp = setTimeout(() => resolve('limit'), limitMs)));
    if ((await (limit ? Promise.race([p, limit]) : p)) === 'limit') logger.error({ step, seconds: limitMs! / 1000 }, `shutdown: gave up waiting for the ${step}`);
  } finally {
    clearInterval(nag);
    clearTimeout(giveUp);
  }
}
