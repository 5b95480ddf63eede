import { useQuery } from '@tanstack/react-query';
import { api, type Me } from '../api.ts';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { formatTime } from '../format.ts';
import { Link } from '../router.tsx';

/**
 * The error text that finds a group's jobs in the jobs table: `name: message` up to the first
 * placeholder the normalization put in (`<uuid>`, `<n>`, `<value>`), which varies between jobs.
 */
export function groupErrorText(errorName: string, errorMessage: string): string {
  const fixed = errorMessage.split(/<(?:uuid|n|value)>/)[0] ?? '';
  return `${errorName}: ${fixed}`.trim().slice(0, 200);
}

/** Failed and retrying jobs grouped by type and error; each group opens the jobs table filtered to it. */
export function Failures({ me }: { me: Me }) {
  const groups = useQuery({ queryKey: ['failureGroups'], queryFn: () => api.ops.failureGroups.query({}), refetchInterval: 10_000 });
  return (
    <section aria-labelledby="failures-heading">
      <h1 id="failures-heading">Failures</h1>
      <p className="muted">Failed and retrying jobs{me.role === 'operator' ? ' of every organization' : ''}, grouped by type and error, largest first.</p>
      <ErrorNote error={groups.error} />
      {groups.data?.length === 0 && <p>No failed or retrying jobs.</p>}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Type</th>
              <th scope="col">Error</th>
              <th scope="col">Jobs</th>
              <th scope="col">Failed / retrying</th>
              <th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {groups.data?.map((g) => (
              <tr key={`${g.type}-${g.errorName}-${g.errorMessage}`}>
                <td>{g.type}</td>
                <td>
                  <Link to={`/jobs?${new URLSearchParams({ type: g.type, q: groupErrorText(g.errorName, g.errorMessage) }).toString()}`}>
                    {g.errorName}: {g.errorMessage}
                  </Link>
                </td>
                <td>{g.count}</td>
                <td>
                  {g.failed} / {g.retrying}
                </td>
                <td>{formatTime(g.lastSeen)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
