import { prettyJson } from '../format.ts';

/** Formatted JSON in a focusable, scrollable block (keyboard users can scroll it too). */
export function JsonView({ value, label }: { value: unknown; label: string }) {
  if (value === null || value === undefined) return <p className="muted">none</p>;
  return (
    <pre className="json" tabIndex={0} aria-label={label}>
      {prettyJson(value)}
    </pre>
  );
}
