/** The `p`-th percentile (0–100) of ascending `sorted`; NaN when empty. */
export const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
