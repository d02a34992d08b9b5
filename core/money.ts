// Money to the nano-dollar, as telemetry and the aggregates store it (integer nano-dollars).

export const toNanoUsd = (usd: number): number => Math.round(usd * 1e9) / 1e9;

/** What a key is charged for a request: the provider's price and the platform fee. */
export const chargedUsd = (costUsd: number, feeUsd: number): number => toNanoUsd(costUsd + feeUsd);
