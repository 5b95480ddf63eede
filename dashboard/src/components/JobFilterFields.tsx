import { JOB_TYPE_LIST } from '../../../shared/catalogue.ts';
import { JOB_STATUS_LIST } from '../../../shared/jobStatus.ts';

/** The job filter as strings (URL search params): type, status, time range, error text, organization. */
export interface FilterValues {
  type?: string | undefined;
  status?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  q?: string | undefined;
  org?: string | undefined;
}

/** The filter's input for jobs.list / bulk actions, from its URL form. */
export function filterInput(values: FilterValues) {
  return {
    type: (JOB_TYPE_LIST as readonly string[]).includes(values.type ?? '') ? (values.type as (typeof JOB_TYPE_LIST)[number]) : undefined,
    status: (JOB_STATUS_LIST as readonly string[]).includes(values.status ?? '') ? (values.status as (typeof JOB_STATUS_LIST)[number]) : undefined,
    createdAfter: values.from ? new Date(values.from) : undefined,
    createdBefore: values.to ? new Date(values.to) : undefined,
    errorText: values.q?.trim() || undefined,
    organizationId: values.org === 'none' ? null : values.org && /^\d+$/.test(values.org) ? Number(values.org) : undefined,
  };
}

/** The shared filter inputs; operators also get the organization filter. */
export function JobFilterFields({ values, onChange, operator, idPrefix }: { values: FilterValues; onChange: (values: FilterValues) => void; operator: boolean; idPrefix: string }) {
  const set = (key: keyof FilterValues) => (e: { target: { value: string } }) => onChange({ ...values, [key]: e.target.value || undefined });
  const id = (key: string) => `${idPrefix}-${key}`;
  return (
    <div className="filters">
      <div className="field">
        <label htmlFor={id('type')}>Type</label>
        <select id={id('type')} value={values.type ?? ''} onChange={set('type')}>
          <option value="">any</option>
          {JOB_TYPE_LIST.map((t) => (
            <option key={t}>{t}</option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={id('status')}>Status</label>
        <select id={id('status')} value={values.status ?? ''} onChange={set('status')}>
          <option value="">any</option>
          {JOB_STATUS_LIST.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={id('from')}>Created after</label>
        <input id={id('from')} type="datetime-local" value={values.from ?? ''} onChange={set('from')} />
      </div>
      <div className="field">
        <label htmlFor={id('to')}>Created before</label>
        <input id={id('to')} type="datetime-local" value={values.to ?? ''} onChange={set('to')} />
      </div>
      <div className="field">
        <label htmlFor={id('q')}>Error contains</label>
        <input id={id('q')} type="search" value={values.q ?? ''} onChange={set('q')} placeholder="e.g. TimeoutError" />
      </div>
      {operator && (
        <div className="field">
          <label htmlFor={id('org')}>Organization</label>
          <input id={id('org')} inputMode="numeric" value={values.org ?? ''} onChange={set('org')} placeholder="all, an id, or none" />
        </div>
      )}
    </div>
  );
}

export const filterFromParams = (params: URLSearchParams): FilterValues => ({
  type: params.get('type') ?? undefined,
  status: params.get('status') ?? undefined,
  from: params.get('from') ?? undefined,
  to: params.get('to') ?? undefined,
  q: params.get('q') ?? undefined,
  org: params.get('org') ?? undefined,
});
