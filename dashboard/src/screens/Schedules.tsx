import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useDeferredValue, useState } from 'react';
import { JOB_CATALOGUE, JOB_TYPE_LIST, type JobType } from '../../../shared/catalogue.ts';
import { api, type Me } from '../api.ts';
import { ConfirmButton } from '../components/ConfirmButton.tsx';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { SchemaForm } from '../components/SchemaForm.tsx';
import { describeCron } from '../cronText.ts';
import { formatTime } from '../format.ts';
import { Link } from '../router.tsx';

/** The types a caller may enqueue or schedule through the API (the server checks the same rule). */
export const typesFor = (me: Me): JobType[] => JOB_TYPE_LIST.filter((t) => JOB_CATALOGUE[t].enqueueAccess === 'member' || (JOB_CATALOGUE[t].enqueueAccess === 'admin' && me.role === 'admin'));

const ZONES: string[] = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : ['UTC'];

/** Schedules with their next firing; create (cron in words, next firings, time zone), pause, resume, delete, trigger now. */
export function Schedules({ me }: { me: Me }) {
  const queryClient = useQueryClient();
  const schedules = useQuery({ queryKey: ['schedules'], queryFn: () => api.dashboard.schedules.query(), refetchInterval: 30_000 });
  const [notice, setNotice] = useState<string>();
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['schedules'] });
  const act = useMutation({
    mutationFn: async ({ action, scheduleId }: { action: 'pause' | 'resume' | 'delete' | 'trigger'; scheduleId: string }) => {
      if (action === 'trigger') return api.dashboard.triggerSchedule.mutate({ scheduleId });
      return api.jobs.schedules[action].mutate({ scheduleId });
    },
    onSuccess: (result, { action, scheduleId }) => {
      setNotice(action === 'trigger' && 'jobId' in result ? `Triggered ${scheduleId}: job ${result.jobId}` : `${scheduleId}: ${action}d`);
      refresh();
    },
  });

  return (
    <section aria-labelledby="schedules-heading">
      <h1 id="schedules-heading">Schedules</h1>
      <ErrorNote error={schedules.error ?? act.error} />
      {notice && <p role="status">{notice}</p>}
      {schedules.data?.length === 0 && <p className="muted">No schedules yet.</p>}
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">Schedule</th>
              <th scope="col">Type</th>
              <th scope="col">When</th>
              <th scope="col">Next run</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {schedules.data?.map((s) => (
              <tr key={s.scheduleId}>
                <td className="mono">{s.scheduleId}</td>
                <td>{s.type}</td>
                <td>
                  <code>{s.cron}</code> {s.timezone ?? 'UTC'}
                  <div className="muted">{describeCron(s.cron)}</div>
                </td>
                <td>{s.paused ? 'paused' : formatTime(s.nextRunAt, s.timezone)}</td>
                <td className="row">
                  <button type="button" onClick={() => act.mutate({ action: 'trigger', scheduleId: s.scheduleId })}>
                    Trigger now
                  </button>
                  <button type="button" onClick={() => act.mutate({ action: s.paused ? 'resume' : 'pause', scheduleId: s.scheduleId })}>
                    {s.paused ? 'Resume' : 'Pause'}
                  </button>
                  <ConfirmButton label="Delete" danger question={`Delete schedule ${s.scheduleId}? It stops firing for good.`} onConfirm={() => act.mutate({ action: 'delete', scheduleId: s.scheduleId })} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <CreateSchedule me={me} onCreated={(id) => (setNotice(`Created ${id}`), refresh())} />
      <p className="muted">
        Jobs of a schedule appear in <Link to="/jobs">Jobs</Link>.
      </p>
    </section>
  );
}

function CreateSchedule({ me, onCreated }: { me: Me; onCreated: (scheduleId: string) => void }) {
  const types = typesFor(me);
  const [type, setType] = useState<JobType | undefined>(types[0]);
  const [cron, setCron] = useState('0 9 * * 1-5');
  const [timezone, setTimezone] = useState('UTC');
  const deferredCron = useDeferredValue(cron);
  const preview = useQuery({ queryKey: ['cronPreview', deferredCron, timezone], queryFn: () => api.dashboard.cronPreview.query({ cron: deferredCron, timezone }), retry: false });
  const create = useMutation({
    mutationFn: (payload: unknown) => api.jobs.schedule.mutate({ type, cron, timezone, payload } as Parameters<typeof api.jobs.schedule.mutate>[0]), // the payload passed its type's schema in SchemaForm
    onSuccess: (r) => onCreated(r.scheduleId),
  });
  if (!type) return null;
  return (
    <section aria-labelledby="create-schedule-heading" className="card">
      <h2 id="create-schedule-heading">New schedule</h2>
      <div className="filters">
        <div className="field">
          <label htmlFor="schedule-type">Job type</label>
          <select id="schedule-type" value={type} onChange={(e) => setType(e.target.value as JobType)}>
            {types.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="schedule-cron">Cron</label>
          <input id="schedule-cron" className="mono" value={cron} onChange={(e) => setCron(e.target.value)} aria-describedby="cron-text" />
        </div>
        <div className="field">
          <label htmlFor="schedule-tz">Time zone</label>
          <input id="schedule-tz" list="zones" value={timezone} onChange={(e) => setTimezone(e.target.value)} />
          <datalist id="zones">
            {ZONES.map((z) => (
              <option key={z} value={z} />
            ))}
          </datalist>
        </div>
      </div>
      <div id="cron-text" aria-live="polite">
        <p>
          <strong>{describeCron(cron)}</strong> ({timezone})
        </p>
        {preview.data && <p className="muted">Next: {preview.data.nextRuns.map((d) => formatTime(d, timezone)).join(' · ')}</p>}
        {preview.error && <p className="error">{preview.error.message}</p>}
      </div>
      <SchemaForm key={type} type={type} initial={JOB_CATALOGUE[type].example} submitLabel="Create schedule" busy={create.isPending} onSubmit={(payload) => create.mutate(payload)} />
      <ErrorNote error={create.error} />
    </section>
  );
}
