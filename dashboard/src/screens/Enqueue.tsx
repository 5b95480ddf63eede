import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { JOB_CATALOGUE, type JobType } from '../../../shared/catalogue.ts';
import { api, type Me } from '../api.ts';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { SchemaForm } from '../components/SchemaForm.tsx';
import { Link } from '../router.tsx';
import { typesFor } from './Schedules.tsx';

/** A test job of any type the caller may enqueue, from a form generated from the catalogue's schema. */
export function Enqueue({ me }: { me: Me }) {
  const types = typesFor(me);
  const [type, setType] = useState<JobType | undefined>(types[0]);
  const [delay, setDelay] = useState('');
  const [enqueued, setEnqueued] = useState<{ jobId: string; deduplicated: boolean }>();
  const enqueue = useMutation({
    // The payload passed its type's schema in SchemaForm; the server validates it again.
    mutationFn: (payload: unknown) => api.jobs.enqueue.mutate({ type, payload, options: delay ? { delay: Number(delay) * 1000 } : undefined } as Parameters<typeof api.jobs.enqueue.mutate>[0]),
    onSuccess: setEnqueued,
  });
  if (!type) return <p>Your role may not enqueue jobs through the API.</p>;
  return (
    <section aria-labelledby="enqueue-heading">
      <h1 id="enqueue-heading">Enqueue a test job</h1>
      <div className="filters">
        <div className="field">
          <label htmlFor="enqueue-type">Job type</label>
          <select id="enqueue-type" value={type} onChange={(e) => (setType(e.target.value as JobType), setEnqueued(undefined))}>
            {types.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="enqueue-delay">Delay in seconds (optional)</label>
          <input id="enqueue-delay" type="number" min={0} value={delay} onChange={(e) => setDelay(e.target.value)} />
        </div>
      </div>
      <p className="muted">{JOB_CATALOGUE[type].description}</p>
      <SchemaForm key={type} type={type} initial={JOB_CATALOGUE[type].example} submitLabel="Enqueue" busy={enqueue.isPending} onSubmit={(payload) => enqueue.mutate(payload)} />
      <ErrorNote error={enqueue.error} />
      {enqueued && (
        <p role="status" className="card">
          {enqueued.deduplicated ? 'Already enqueued' : 'Enqueued'}: <Link to={`/jobs/${enqueued.jobId}`}>job {enqueued.jobId}</Link>
        </p>
      )}
    </section>
  );
}
