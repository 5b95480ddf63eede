import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type Me } from '../api.ts';
import { isStaff } from '../App.tsx';
import { BarChart } from '../components/BarChart.tsx';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { formatAge, formatDuration } from '../format.ts';
import { Link } from '../router.tsx';

const REFRESH_MS = 10_000;

/** What needs attention and why: health causes in words, throughput and failure rate, queue, outbox, top failure groups. */
export function Overview({ me }: { me: Me }) {
  const [window, setWindow] = useState<'hour' | 'day'>('hour');
  const staff = isStaff(me);
  const overview = useQuery({ queryKey: ['overview', window], queryFn: () => api.dashboard.overview.query({ window }), refetchInterval: REFRESH_MS });
  const health = useQuery({ queryKey: ['health'], queryFn: () => api.ops.health.query(), enabled: staff, refetchInterval: REFRESH_MS });
  const groups = useQuery({ queryKey: ['failureGroups', 'top'], queryFn: () => api.ops.failureGroups.query({ limit: 5 }), enabled: staff, refetchInterval: REFRESH_MS });
  const label = (at: Date) => at.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  const buckets = overview.data?.series.map((b) => ({ at: b.at, label: label(b.at) })) ?? [];

  return (
    <section aria-labelledby="overview-heading">
      <h1 id="overview-heading">Overview</h1>
      {staff && health.data && (
        <div className={`health ${health.data.health}`} role="status">
          <h2>{health.data.health === 'healthy' ? 'Healthy' : 'Needs attention'}</h2>
          {health.data.causes.length > 0 ? (
            <ul>
              {health.data.causes.map((cause) => (
                <li key={cause}>{cause}</li>
              ))}
            </ul>
          ) : (
            <p>No failures above the threshold, nothing stuck, the outbox is empty.</p>
          )}
          <p className="muted">
            Last hour: {health.data.totalJobs} jobs, failure rate {(health.data.failureRate * 100).toFixed(1)} %. Outbox: {health.data.signals.outboxBacklog.unpublished} unpublished
            {health.data.signals.outboxBacklog.unpublished > 0 ? `, oldest ${formatDuration(health.data.signals.outboxBacklog.oldestSeconds * 1000)}` : ''}.
          </p>
        </div>
      )}
      <ErrorNote error={overview.error ?? health.error} />
      <fieldset className="segmented">
        <legend>Window</legend>
        {(['hour', 'day'] as const).map((w) => (
          <label key={w}>
            <input type="radio" name="window" value={w} checked={window === w} onChange={() => setWindow(w)} /> Last {w}
          </label>
        ))}
      </fieldset>
      {overview.data && (
        <div className="charts">
          <BarChart title="Completed jobs" buckets={buckets} value={(i) => overview.data.series[i]?.completed ?? 0} format={(n) => String(n)} />
          <BarChart title="Failure rate" buckets={buckets} value={(i) => overview.data.series[i]?.failureRate ?? 0} format={(n) => `${Math.round(n * 100)} %`} max={0.05} />
        </div>
      )}
      <h2>Queue</h2>
      {overview.data && overview.data.queue.length === 0 ? (
        <p className="muted">Nothing waiting or running.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col">Jobs</th>
                <th scope="col">Oldest due for</th>
              </tr>
            </thead>
            <tbody>
              {overview.data?.queue.map((row) => (
                <tr key={`${row.type}-${row.status}`}>
                  <td>
                    <Link to={`/jobs?type=${row.type}&status=${row.status}`}>{row.type}</Link>
                  </td>
                  <td>{row.status}</td>
                  <td>{row.count}</td>
                  <td>{formatAge(row.oldestDueAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {staff && (
        <>
          <h2>Top failure groups</h2>
          {groups.data && groups.data.length === 0 && <p className="muted">No failed or retrying jobs.</p>}
          <ul className="groups">
            {groups.data?.map((g) => (
              <li key={`${g.type}-${g.errorName}-${g.errorMessage}`}>
                <strong>{g.count}</strong> × {g.type}: {g.errorName}: {g.errorMessage} <Link to="/failures">details</Link>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
