import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type Me, type Outputs } from '../api.ts';
import { ConfirmButton } from '../components/ConfirmButton.tsx';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { filterFromParams, filterInput, JobFilterFields, type FilterValues } from '../components/JobFilterFields.tsx';
import { StatusBadge } from '../components/StatusBadge.tsx';
import { formatTime } from '../format.ts';
import { Link, setParams } from '../router.tsx';

type Action = 'retry' | 'cancel';
type DryRun = Extract<Outputs['jobs']['bulkRetry'], { dryRun: true }>;

/** Bulk retry or cancel by filter: a dry run first (count and sample), then the run, its progress and per-job outcomes. */
export function Bulk({ me, params }: { me: Me; params: URLSearchParams }) {
  const filter = filterFromParams(params);
  const action: Action = params.get('action') === 'cancel' ? 'cancel' : 'retry';
  const [dryRun, setDryRun] = useState<DryRun>();
  const [operationId, setOperationId] = useState<string>();
  const call = (dry: boolean) => {
    const input = { ...filterInput(filter), dryRun: dry };
    return action === 'retry' ? api.jobs.bulkRetry.mutate(input) : api.jobs.bulkCancel.mutate(input);
  };
  const preview = useMutation({ mutationFn: () => call(true), onSuccess: (r) => r.dryRun && setDryRun(r) });
  const run = useMutation({ mutationFn: () => call(false), onSuccess: (r) => !r.dryRun && setOperationId(r.operationId) });
  const change = (values: FilterValues & { action?: string }) => {
    setDryRun(undefined);
    setOperationId(undefined);
    setParams({ ...values, action: values.action ?? action });
  };

  return (
    <section aria-labelledby="bulk-heading">
      <h1 id="bulk-heading">Bulk actions</h1>
      <p className="muted">Select jobs by filter{me.role === 'operator' ? ' across every organization' : ' in your organization'}. A dry run shows what would change; nothing changes until you run it.</p>
      <fieldset className="segmented">
        <legend>Action</legend>
        {(['retry', 'cancel'] as const).map((a) => (
          <label key={a}>
            <input type="radio" name="action" value={a} checked={action === a} onChange={() => change({ ...filter, action: a })} /> {a === 'retry' ? 'Retry failed and cancelled jobs' : 'Cancel pending and retrying jobs'}
          </label>
        ))}
      </fieldset>
      <JobFilterFields values={filter} onChange={(v) => change(v)} operator={me.role === 'operator'} idPrefix="bulk" />
      <div className="row">
        <button type="button" onClick={() => preview.mutate()} disabled={preview.isPending}>
          Dry run
        </button>
        <ConfirmButton label={action === 'retry' ? 'Run retry' : 'Run cancel'} danger={action === 'cancel'} disabled={!dryRun || dryRun.matched === 0 || run.isPending || operationId !== undefined} question={`${action === 'retry' ? 'Retry' : 'Cancel'} the ${dryRun?.matched ?? 0} matching jobs?`} onConfirm={() => run.mutate()} />
      </div>
      <ErrorNote error={preview.error ?? run.error} />
      {dryRun && !operationId && (
        <div className="card" role="status" aria-live="polite">
          <p>
            <strong data-testid="dry-run-count">{dryRun.matched}</strong> job{dryRun.matched === 1 ? '' : 's'} would be {action === 'retry' ? 'retried' : 'cancelled'}.{dryRun.sample.length > 0 && ' Newest of them:'}
          </p>
          <ul>
            {dryRun.sample.map((job) => (
              <li key={job.jobId}>
                <Link to={`/jobs/${job.jobId}`} className="mono">
                  {job.jobId.slice(0, 8)}
                </Link>{' '}
                {job.type} <StatusBadge status={job.status} /> {formatTime(job.createdAt)}
              </li>
            ))}
          </ul>
        </div>
      )}
      {operationId && <Progress operationId={operationId} />}
    </section>
  );
}

function Progress({ operationId }: { operationId: string }) {
  const operation = useQuery({
    queryKey: ['bulkOperation', operationId],
    queryFn: () => api.jobs.bulkOperation.query({ operationId }),
    refetchInterval: (query) => (query.state.data?.status === 'running' ? 500 : false),
  });
  const done = operation.data !== undefined && operation.data.status !== 'running';
  const items = useQuery({ queryKey: ['bulkOperationItems', operationId], queryFn: () => api.jobs.bulkOperationItems.query({ operationId, limit: 100 }), enabled: done });
  const op = operation.data;
  return (
    <div className="card" aria-labelledby="progress-heading">
      <h2 id="progress-heading">Operation {operationId.slice(0, 8)}</h2>
      <ErrorNote error={operation.error} />
      {op && (
        <>
          <p role="status" data-testid="bulk-status">
            {op.status}: {op.processed} of {op.matched} processed, {op.succeeded} {op.action === 'retry' ? 'retried' : 'cancelled'}, {op.skipped} skipped
            {op.error ? ` · ${op.error}` : ''}
          </p>
          <progress max={Math.max(op.matched, 1)} value={op.processed} aria-label="Progress" />
        </>
      )}
      {items.data && (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Outcome</th>
                <th scope="col">Note</th>
              </tr>
            </thead>
            <tbody>
              {items.data.items.map((item) => (
                <tr key={item.jobId}>
                  <td>
                    <Link to={`/jobs/${item.jobId}`} className="mono">
                      {item.jobId.slice(0, 8)}
                    </Link>
                  </td>
                  <td>{item.outcome}</td>
                  <td>{item.message ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {items.data.nextCursor && <p className="muted">First 100 outcomes shown.</p>}
        </div>
      )}
    </div>
  );
}
