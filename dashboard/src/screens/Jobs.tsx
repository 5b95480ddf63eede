import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import type { JobView } from '../../../shared/jobApi.ts';
import { api, type Me, type Outputs } from '../api.ts';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { filterFromParams, filterInput, JobFilterFields, type FilterValues } from '../components/JobFilterFields.tsx';
import { StatusBadge } from '../components/StatusBadge.tsx';
import { formatTime } from '../format.ts';
import { Link, setParams } from '../router.tsx';

type Page = Outputs['jobs']['list'];
const PAGE_SIZE = 50;

/**
 * The jobs table: filters and the page cursor live in the URL (a view can be shared), newest
 * first, keyset paging. Rows change status in place from `jobs.onEvents`; a job new to the
 * first page reloads it. Operators' stream is their own organization's, so their list is also
 * refreshed every few seconds.
 */
export function Jobs({ me, params }: { me: Me; params: URLSearchParams }) {
  const filter = filterFromParams(params);
  const cursor = params.get('cursor') ?? undefined;
  const input = { ...filterInput(filter), limit: PAGE_SIZE, cursor };
  const queryKey = ['jobs.list', input];
  const queryClient = useQueryClient();
  const page = useQuery({ queryKey, queryFn: () => api.jobs.list.query(input), refetchInterval: me.role === 'operator' ? 5_000 : false, placeholderData: (previous) => previous });
  const [history, setHistory] = useState<string[]>([]);
  const [live, setLive] = useState(false);

  useEffect(() => {
    const subscription = api.jobs.onEvents.subscribe(
      { type: input.type, status: undefined },
      {
        onStarted: () => setLive(true),
        onConnectionStateChange: (state) => setLive(state.state === 'pending'),
        onData: ({ data: event }) => {
          let found = false;
          queryClient.setQueriesData<Page>({ queryKey: ['jobs.list'] }, (old) => {
            if (!old) return old;
            const items = old.items.map((job): JobView => {
              if (job.jobId !== event.jobId) return job;
              found = true;
              return { ...job, status: event.status, progress: event.progress, retryCount: event.retryCount, error: event.error, nextAttemptAt: event.nextAttemptAt, updatedAt: event.at };
            });
            return found ? { ...old, items } : old;
          });
          if (!found && event.status === 'pending') void queryClient.invalidateQueries({ queryKey: ['jobs.list'] });
        },
        onError: () => setLive(false),
      },
    );
    return () => subscription.unsubscribe();
  }, [queryClient, input.type]);

  const update = (values: FilterValues) => setParams({ ...values });
  const next = () => {
    if (!page.data?.nextCursor) return;
    setHistory((h) => [...h, cursor ?? '']);
    setParams({ ...filter, cursor: page.data.nextCursor });
  };
  const previous = () => {
    const before = history.at(-1);
    setHistory((h) => h.slice(0, -1));
    setParams({ ...filter, cursor: before || undefined });
  };

  return (
    <section aria-labelledby="jobs-heading">
      <div className="heading-row">
        <h1 id="jobs-heading">Jobs</h1>
        <span className={live ? 'live on' : 'live'} role="status">
          {live ? 'Live' : 'Not live'}
        </span>
      </div>
      <JobFilterFields values={filter} onChange={update} operator={me.role === 'operator'} idPrefix="jobs" />
      <ErrorNote error={page.error} />
      <div className="table-wrap">
        <table className="jobs">
          <caption className="visually-hidden">Jobs, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Type</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Created</th>
              {me.role === 'operator' && <th scope="col">Org</th>}
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {page.data?.items.map((job) => (
              <tr key={job.jobId} data-job-id={job.jobId} data-status={job.status}>
                <td>
                  <Link to={`/jobs/${job.jobId}`} className="mono">
                    {job.jobId.slice(0, 8)}
                  </Link>
                </td>
                <td>{job.type}</td>
                <td>
                  <StatusBadge status={job.status} />
                  {job.status === 'processing' && job.progress !== null && <span className="muted"> {Math.round(job.progress * 100)} %</span>}
                </td>
                <td>
                  {job.retryCount}/{job.maxRetries}
                </td>
                <td>{formatTime(job.createdAt)}</td>
                {me.role === 'operator' && <td>{job.organizationId ?? 'none'}</td>}
                <td className="truncate">{job.error ? `${job.error.name}: ${job.error.message}` : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {page.data && page.data.items.length === 0 && <p className="muted">No jobs match.</p>}
      <div className="row pager">
        <button type="button" onClick={previous} disabled={!cursor}>
          Newer
        </button>
        <button type="button" onClick={next} disabled={!page.data?.nextCursor}>
          Older
        </button>
      </div>
    </section>
  );
}
