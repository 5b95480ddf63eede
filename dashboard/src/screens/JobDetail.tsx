import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { CANCELLABLE_STATUSES, RETRYABLE_STATUSES, isTerminalStatus } from '../../../shared/jobStatus.ts';
import { api, type Me, type Outputs } from '../api.ts';
import { ConfirmButton } from '../components/ConfirmButton.tsx';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { JsonView } from '../components/JsonView.tsx';
import { SchemaForm } from '../components/SchemaForm.tsx';
import { StatusBadge } from '../components/StatusBadge.tsx';
import { formatDuration, formatTime, jsonDiff } from '../format.ts';
import { Link, navigate } from '../router.tsx';

type Timeline = Outputs['dashboard']['timeline'];

/** One job: payload, result, error, the timeline (live while it runs) and the actions on it. */
export function JobDetail({ jobId, me }: { jobId: string; me: Me }) {
  const queryClient = useQueryClient();
  const queryKey = ['timeline', jobId];
  const timeline = useQuery({ queryKey, queryFn: () => api.dashboard.timeline.query({ jobId }), retry: false });
  const replays = useQuery({ queryKey: ['replays', jobId], queryFn: () => api.jobs.replays.query({ jobId }), retry: false });
  const [notice, setNotice] = useState<string>();
  const status = timeline.data?.job.status;
  const running = status !== undefined && !isTerminalStatus(status);

  useEffect(() => {
    if (!running) return;
    const subscription = api.jobs.onStatus.subscribe({ jobId }, { onData: () => void queryClient.invalidateQueries({ queryKey }) });
    return () => subscription.unsubscribe();
  }, [jobId, running, queryClient]);

  const act = useMutation({
    mutationFn: async (action: 'retry' | 'cancel' | 'runNow') => {
      if (action === 'retry') return api.jobs.retry.mutate({ jobId });
      if (action === 'cancel') return api.jobs.cancel.mutate({ jobId });
      return api.jobs.runNow.mutate({ jobId });
    },
    onSuccess: (_data, action) => {
      setNotice(action === 'retry' ? 'Retry requested.' : action === 'cancel' ? 'Cancelled.' : 'Running now.');
      void queryClient.invalidateQueries({ queryKey });
    },
  });

  if (timeline.error) {
    return (
      <section>
        <h1>Job {jobId}</h1>
        <ErrorNote error={timeline.error} />
        <Link to="/jobs">Back to jobs</Link>
      </section>
    );
  }
  if (!timeline.data) return <p className="loading">Loading job…</p>;
  const { job } = timeline.data;
  return (
    <section aria-labelledby="job-heading">
      <p>
        <Link to="/jobs">← Jobs</Link>
      </p>
      <div className="heading-row">
        <h1 id="job-heading">
          {job.type} <span className="mono small">{job.jobId}</span>
        </h1>
        <StatusBadge status={job.status} />
      </div>
      <dl className="facts">
        <dt>Organization</dt>
        <dd>{job.organizationId ?? 'none'}</dd>
        <dt>User</dt>
        <dd>{job.userId ?? '—'}</dd>
        <dt>Retries</dt>
        <dd>
          {job.retryCount} of {job.maxRetries} used
        </dd>
        <dt>Created</dt>
        <dd>{formatTime(job.createdAt)}</dd>
        {replays.data?.replayOf && (
          <>
            <dt>Replay of</dt>
            <dd>
              <Link to={`/jobs/${replays.data.replayOf}`} className="mono">
                {replays.data.replayOf}
              </Link>
            </dd>
          </>
        )}
        {replays.data && replays.data.replays.length > 0 && (
          <>
            <dt>Replayed as</dt>
            <dd>
              {replays.data.replays.map((id) => (
                <Link key={id} to={`/jobs/${id}`} className="mono replay-link">
                  {id.slice(0, 8)}
                </Link>
              ))}
            </dd>
          </>
        )}
        {job.scheduleId && (
          <>
            <dt>Schedule</dt>
            <dd className="mono">{job.scheduleId}</dd>
          </>
        )}
      </dl>
      <div className="row actions" aria-label="Actions">
        <ConfirmButton label="Retry" question={`Run job ${job.jobId} again from the start?`} disabled={!(RETRYABLE_STATUSES as readonly string[]).includes(job.status)} onConfirm={() => act.mutate('retry')} />
        <ConfirmButton label="Cancel" danger question={`Cancel job ${job.jobId}? It will not run again.`} disabled={!(CANCELLABLE_STATUSES as readonly string[]).includes(job.status)} onConfirm={() => act.mutate('cancel')} />
        <ConfirmButton label="Run now" question={`Deliver job ${job.jobId} now instead of waiting?`} disabled={job.status !== 'pending' && job.status !== 'retrying'} onConfirm={() => act.mutate('runNow')} />
      </div>
      {notice && <p role="status">{notice}</p>}
      <ErrorNote error={act.error} />
      <div className="two-col">
        <div>
          <h2>Timeline</h2>
          <TimelineList data={timeline.data} />
        </div>
        <div>
          <h2>Payload</h2>
          <JsonView value={job.payload} label="Payload" />
          <h2>Result</h2>
          <JsonView value={job.result} label="Result" />
          <h2>Error</h2>
          {job.error ? (
            <p className="error-box">
              <strong>{job.error.name}</strong>: {job.error.message}
            </p>
          ) : (
            <p className="muted">none</p>
          )}
        </div>
      </div>
      {isTerminalStatus(job.status) && <Replay job={job} me={me} />}
    </section>
  );
}

function TimelineList({ data }: { data: Timeline }) {
  const { job, attempts } = data;
  return (
    <ol className="timeline" aria-label="Timeline">
      <li>
        <strong>Enqueued</strong> <span className="muted">{formatTime(job.createdAt)}</span>
      </li>
      <li>
        <strong>Published</strong>{' '}
        {data.publishedAt ? (
          <>
            <span className="muted">{formatTime(data.publishedAt)}</span> message <span className="mono">{data.messageId}</span>
          </>
        ) : (
          <span className="muted">not yet (in the outbox)</span>
        )}
        {data.brokerLog === 'unavailable' && <div className="muted">HTTP status codes unavailable: the broker's delivery log did not answer</div>}
      </li>
      {attempts.map((attempt) => (
        <li key={attempt.number} className={`attempt attempt-${attempt.outcome}`} data-attempt={attempt.number}>
          <strong>Attempt {attempt.number}</strong> <span className="muted">{formatTime(attempt.startedAt)}</span> · {formatDuration(attempt.durationMs)} · <StatusBadge status={attempt.outcome} />
          <DeliveryStatus delivery={attempt.delivery} brokerLog={data.brokerLog} />
          {attempt.error && (
            <div className="error-line">
              {attempt.error.name}: {attempt.error.message}
            </div>
          )}
          {attempt.nextAttemptAt && <div className="muted">next attempt {formatTime(attempt.nextAttemptAt)}</div>}
          {attempt.progress.length > 0 && (
            <ul className="progress">
              {attempt.progress.map((p, i) => (
                <li key={i}>
                  <progress max={1} value={p.progress} aria-label={`progress ${Math.round(p.progress * 100)} %`} /> {Math.round(p.progress * 100)} %{p.message ? ` · ${p.message}` : ''}
                </li>
              ))}
            </ul>
          )}
        </li>
      ))}
      {isTerminalStatus(job.status) && (
        <li>
          <strong>Settled</strong> <StatusBadge status={job.status} /> <span className="muted">{formatTime(job.completedAt ?? job.updatedAt)}</span>
        </li>
      )}
    </ol>
  );
}

/** The worker's answer to the broker's delivery that ran an attempt, as the broker logged it. */
function DeliveryStatus({ delivery, brokerLog }: { delivery: Timeline['attempts'][number]['delivery']; brokerLog: Timeline['brokerLog'] }) {
  // Read but absent: an earlier message of the job (a manual retry publishes anew) or past the broker's log retention.
  if (!delivery) return brokerLog === 'read' ? <span className="muted"> · HTTP status not in the broker's log</span> : null;
  const ok = delivery.httpStatus !== null && delivery.httpStatus < 300;
  const took = delivery.startedAt && delivery.endedAt.getTime() - delivery.startedAt.getTime();
  return (
    <>
      {' · '}
      <span className={`mono http-status ${ok ? 'http-ok' : 'http-error'}`} data-http-status={delivery.httpStatus ?? 'none'}>
        <span className="visually-hidden">worker response </span>
        {delivery.httpStatus === null ? `no HTTP response${delivery.error ? ` (${delivery.error})` : ''}` : `HTTP ${delivery.httpStatus}`}
      </span>
      <div className="muted">
        broker delivery {formatTime(delivery.startedAt ?? delivery.endedAt)}
        {took !== null && ` · ${formatDuration(took)}`}
      </div>
    </>
  );
}

/** Replay with an edited payload: a new job linked to this one, the payload checked against its type's schema first. */
function Replay({ job }: { job: Outputs['jobs']['get']; me: Me }) {
  const [open, setOpen] = useState(false);
  const replay = useMutation({
    mutationFn: (payload: unknown) => api.jobs.replay.mutate({ jobId: job.jobId, payload }),
    onSuccess: (result) => navigate(`/jobs/${result.jobId}`),
  });
  return (
    <section aria-labelledby="replay-heading" className="card">
      <h2 id="replay-heading">Replay</h2>
      {!open ? (
        <button type="button" onClick={() => setOpen(true)}>
          Replay with an edited payload…
        </button>
      ) : (
        <SchemaForm
          type={job.type}
          initial={job.payload}
          submitLabel="Replay as a new job"
          busy={replay.isPending}
          onSubmit={(payload) => replay.mutate(payload)}
          extra={(payload) => <Diff before={job.payload} after={payload} />}
        />
      )}
      <ErrorNote error={replay.error} />
    </section>
  );
}

function Diff({ before, after }: { before: unknown; after: unknown }) {
  const changes = jsonDiff(before, after);
  return (
    <div className="diff" aria-live="polite">
      <h3>Changes from the original</h3>
      {changes.length === 0 ? (
        <p className="muted">none: the replay runs the same payload</p>
      ) : (
        <ul>
          {changes.map((c) => (
            <li key={c.path}>
              <code>{c.path}</code>: <del>{JSON.stringify(c.before) ?? '(absent)'}</del> → <ins>{JSON.stringify(c.after) ?? '(absent)'}</ins>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
