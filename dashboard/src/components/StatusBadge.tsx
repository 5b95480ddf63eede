import type { JobStatus } from '../../../shared/jobStatus.ts';

/** A job's status as text with a colour (the text carries the meaning; colours meet 4.5:1). */
export function StatusBadge({ status }: { status: JobStatus }) {
  return <span className={`badge badge-${status}`}>{status}</span>;
}
