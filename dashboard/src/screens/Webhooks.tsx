import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type Me } from '../api.ts';
import { ConfirmButton } from '../components/ConfirmButton.tsx';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { StatusBadge } from '../components/StatusBadge.tsx';
import { formatTime } from '../format.ts';
import { Link } from '../router.tsx';

/** Stored webhook events, the jobs each caused, and replay (a new process-webhook job). */
export function Webhooks({ me }: { me: Me }) {
  const queryClient = useQueryClient();
  const [source, setSource] = useState('');
  const events = useQuery({ queryKey: ['webhooks', source], queryFn: () => api.webhooks.list.query({ source: source.trim() || undefined, limit: 50 }) });
  const [open, setOpen] = useState<string>();
  const replay = useMutation({
    mutationFn: (webhookEventId: string) => api.webhooks.replay.mutate({ webhookEventId }),
    onSuccess: (_r, id) => {
      setOpen(id);
      void queryClient.invalidateQueries({ queryKey: ['webhooks'] });
      void queryClient.invalidateQueries({ queryKey: ['webhookJobs', id] });
    },
  });
  return (
    <section aria-labelledby="webhooks-heading">
      <h1 id="webhooks-heading">Webhooks</h1>
      <p className="muted">Events received at /api/webhooks/:source{me.role === 'operator' ? ', every organization' : ''}. A replay runs the stored event through its handlers again as a new job.</p>
      <div className="filters">
        <div className="field">
          <label htmlFor="webhook-source">Source</label>
          <input id="webhook-source" type="search" value={source} onChange={(e) => setSource(e.target.value)} placeholder="e.g. github" />
        </div>
      </div>
      <ErrorNote error={events.error ?? replay.error} />
      {events.data?.length === 0 && <p className="muted">No stored webhook events.</p>}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Source</th>
              <th scope="col">Event</th>
              <th scope="col">Received</th>
              <th scope="col">Replays</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {events.data?.map((e) => (
              <tr key={e.webhookEventId}>
                <td>{e.source}</td>
                <td>
                  {e.event}
                  <div className="muted mono small">{e.deliveryId}</div>
                </td>
                <td>{formatTime(e.receivedAt)}</td>
                <td>{e.replayedCount}</td>
                <td className="row">
                  <button type="button" aria-expanded={open === e.webhookEventId} onClick={() => setOpen(open === e.webhookEventId ? undefined : e.webhookEventId)}>
                    Jobs
                  </button>
                  <ConfirmButton label="Replay" question={`Run ${e.source} event ${e.event} (${e.deliveryId}) through its handlers again?`} onConfirm={() => replay.mutate(e.webhookEventId)} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {open && <EventJobs webhookEventId={open} />}
    </section>
  );
}

function EventJobs({ webhookEventId }: { webhookEventId: string }) {
  const jobs = useQuery({ queryKey: ['webhookJobs', webhookEventId], queryFn: () => api.dashboard.webhookJobs.query({ webhookEventId }) });
  return (
    <div className="card">
      <h2>Jobs of event {webhookEventId.slice(0, 8)}</h2>
      <ErrorNote error={jobs.error} />
      <ul>
        {jobs.data?.map((job) => (
          <li key={job.jobId}>
            <Link to={`/jobs/${job.jobId}`} className="mono">
              {job.jobId.slice(0, 8)}
            </Link>{' '}
            <StatusBadge status={job.status} /> {formatTime(job.createdAt)}
          </li>
        ))}
      </ul>
    </div>
  );
}
