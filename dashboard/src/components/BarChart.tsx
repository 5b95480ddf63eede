/** A bar chart in SVG (no library): one bar per bucket, with a text table for screen readers. */
export function BarChart({ title, buckets, value, format, max }: { title: string; buckets: { at: Date; label: string }[]; value: (index: number) => number; format: (n: number) => string; max?: number }) {
  const values = buckets.map((_, i) => value(i));
  const top = Math.max(max ?? 0, ...values, 1e-9);
  const width = 100 / Math.max(buckets.length, 1);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox="0 0 100 40" preserveAspectRatio="none" role="img" aria-label={`${title}: ${values.map((v, i) => `${buckets[i]?.label} ${format(v)}`).join(', ')}`}>
        {values.map((v, i) => (
          <rect key={i} x={i * width + width * 0.1} width={width * 0.8} y={40 - (v / top) * 38} height={(v / top) * 38} className="bar">
            <title>{`${buckets[i]?.label}: ${format(v)}`}</title>
          </rect>
        ))}
      </svg>
      <div className="chart-axis" aria-hidden="true">
        <span>{buckets[0]?.label}</span>
        <span>peak {format(Math.max(...values, 0))}</span>
        <span>{buckets.at(-1)?.label}</span>
      </div>
    </figure>
  );
}
