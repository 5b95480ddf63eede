import { useId, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { z } from 'zod';
import { JOB_CATALOGUE, type JobType } from '../../../shared/catalogue.ts';

/** The slice of JSON Schema (what `z.toJSONSchema` writes) the form reads. */
interface Schema {
  type?: string;
  const?: unknown;
  enum?: unknown[];
  format?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  description?: string;
}
type Json = Record<string, unknown>;
type Issues = Map<string, string>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
/** On a switch of variant, what carries over: the plain fields (`to`), not the variant's nested data. */
const keepScalars = (value: unknown): Json => (isObject(value) ? Object.fromEntries(Object.entries(value).filter(([, v]) => typeof v !== 'object')) : {});

/** The type's payload schema as JSON Schema, for the form; the Zod schema itself validates. */
export function payloadJsonSchema(type: JobType): Schema {
  return z.toJSONSchema(JOB_CATALOGUE[type].payload, { io: 'input', unrepresentable: 'any' }) as Schema;
}

/** A union of objects told apart by one constant property (send-email's `template`): that property. */
function discriminatorOf(variants: Schema[]): string | undefined {
  const first = variants[0]?.properties ?? {};
  return Object.keys(first).find((key) => variants.every((v) => v.properties?.[key]?.const !== undefined));
}

/**
 * A form generated from a job type's payload schema: inputs for strings, numbers, booleans and
 * enums, fieldsets for nested objects, a select for a union's discriminator, JSON for the rest
 * (records, arrays). Validated with the type's Zod schema before `onSubmit` is called; issues
 * are shown next to their fields.
 */
export function SchemaForm({ type, initial, submitLabel, onSubmit, busy, extra }: { type: JobType; initial: unknown; submitLabel: string; onSubmit: (payload: unknown) => void; busy?: boolean; extra?: (payload: unknown) => ReactNode }) {
  const schema = useMemo(() => payloadJsonSchema(type), [type]);
  const [value, setValue] = useState<unknown>(initial);
  const [issues, setIssues] = useState<Issues>(new Map());
  const [jsonErrors, setJsonErrors] = useState<Set<string>>(new Set());

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (jsonErrors.size > 0) return;
    const parsed = JOB_CATALOGUE[type].payload.safeParse(value);
    if (!parsed.success) {
      setIssues(new Map(parsed.error.issues.map((issue) => [issue.path.join('.'), issue.message])));
      return;
    }
    setIssues(new Map());
    onSubmit(value);
  };
  const ctx = { issues, setJsonError: (path: string, bad: boolean) => setJsonErrors((s) => { const next = new Set(s); if (bad) next.add(path); else next.delete(path); return next; }) };

  return (
    <form onSubmit={submit} noValidate aria-label={`${type} payload`}>
      <Node schema={schema} path={[]} value={value} onChange={setValue} ctx={ctx} label="payload" />
      {issues.size > 0 && (
        <div role="alert" className="error">
          <p>The payload does not match the {type} schema:</p>
          <ul>
            {[...issues].map(([path, message]) => (
              <li key={path}>
                <code>{path || '(payload)'}</code>: {message}
              </li>
            ))}
          </ul>
        </div>
      )}
      {extra?.(value)}
      <button type="submit" className="primary" disabled={busy || jsonErrors.size > 0}>
        {submitLabel}
      </button>
    </form>
  );
}

interface Ctx {
  issues: Issues;
  setJsonError: (path: string, bad: boolean) => void;
}
interface NodeProps {
  schema: Schema;
  path: string[];
  value: unknown;
  onChange: (value: unknown) => void;
  ctx: Ctx;
  label: string;
  required?: boolean;
}

function Node(props: NodeProps) {
  const { schema, path, value, onChange, ctx, label } = props;
  const variants = schema.oneOf ?? schema.anyOf;
  const key = variants && discriminatorOf(variants);
  if (variants && key) {
    const current = isObject(value) ? value[key] : undefined;
    const variant = variants.find((v) => v.properties?.[key]?.const === current) ?? variants[0]!;
    return (
      <fieldset>
        <legend>{label}</legend>
        <SelectField label={key} options={variants.map((v) => v.properties![key]!.const)} value={current} onChange={(next) => onChange({ ...keepScalars(value), [key]: next })} issue={ctx.issues.get([...path, key].join('.'))} />
        <ObjectFields key={String(current)} {...props} schema={{ ...variant, properties: Object.fromEntries(Object.entries(variant.properties ?? {}).filter(([k]) => k !== key)) }} />
      </fieldset>
    );
  }
  if (schema.type === 'object' && schema.properties) {
    if (path.length === 0) return <ObjectFields {...props} />;
    return (
      <fieldset>
        <legend>{label}</legend>
        <ObjectFields {...props} />
      </fieldset>
    );
  }
  const issue = ctx.issues.get(path.join('.'));
  if (schema.enum) return <SelectField label={label} options={schema.enum} value={value} onChange={onChange} issue={issue} optional={!props.required} />;
  if (schema.type === 'string' || schema.type === 'integer' || schema.type === 'number') {
    const numeric = schema.type !== 'string';
    const inputType = numeric ? 'number' : schema.format === 'email' ? 'email' : schema.format === 'date' ? 'date' : schema.format === 'uri' ? 'url' : 'text';
    return (
      <Field label={label} issue={issue} required={props.required}>
        {(id, describedBy) => (
          <input
            id={id}
            type={inputType}
            step={schema.type === 'integer' ? 1 : undefined}
            aria-required={props.required || undefined}
            value={value === undefined || value === null ? '' : String(value)}
            aria-invalid={issue ? true : undefined}
            aria-describedby={describedBy}
            onChange={(e) => onChange(e.target.value === '' ? undefined : numeric ? Number(e.target.value) : e.target.value)}
          />
        )}
      </Field>
    );
  }
  if (schema.type === 'boolean') {
    return (
      <Field label={label} issue={issue} inline>
        {(id, describedBy) => <input id={id} type="checkbox" checked={value === true} aria-describedby={describedBy} onChange={(e) => onChange(e.target.checked)} />}
      </Field>
    );
  }
  return <JsonField {...props} issue={issue} />;
}

function ObjectFields({ schema, path, value, onChange, ctx }: NodeProps) {
  const object = isObject(value) ? value : {};
  return (
    <>
      {Object.entries(schema.properties ?? {}).map(([name, child]) => (
        <Node
          key={name}
          schema={child}
          path={[...path, name]}
          label={name}
          required={schema.required?.includes(name)}
          value={object[name]}
          onChange={(next) => {
            const copy = { ...object };
            if (next === undefined) delete copy[name];
            else copy[name] = next;
            onChange(copy);
          }}
          ctx={ctx}
        />
      ))}
    </>
  );
}

function Field({ label, issue, required, inline, children }: { label: string; issue: string | undefined; required?: boolean | undefined; inline?: boolean; children: (id: string, describedBy: string | undefined) => ReactNode }) {
  const id = useId();
  const issueId = `${id}-issue`;
  return (
    <div className={inline ? 'field inline' : 'field'}>
      <label htmlFor={id}>
        {label}
        {required ? <span aria-hidden="true"> *</span> : <span className="muted"> (optional)</span>}
      </label>
      {children(id, issue ? issueId : undefined)}
      {issue && (
        <span id={issueId} className="field-issue">
          {issue}
        </span>
      )}
    </div>
  );
}

function SelectField({ label, options, value, onChange, issue, optional }: { label: string; options: unknown[]; value: unknown; onChange: (v: unknown) => void; issue: string | undefined; optional?: boolean }) {
  return (
    <Field label={label} issue={issue} required={!optional}>
      {(id, describedBy) => (
        <select id={id} value={value === undefined ? '' : String(value)} aria-describedby={describedBy} onChange={(e) => onChange(options.find((o) => String(o) === e.target.value))}>
          {(optional || value === undefined) && <option value="">—</option>}
          {options.map((o) => (
            <option key={String(o)} value={String(o)}>
              {String(o)}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/** Records, arrays and anything else: edited as JSON text, parsed on each change. */
function JsonField({ path, value, onChange, ctx, label, required, issue }: NodeProps & { issue: string | undefined }) {
  const [text, setText] = useState(value === undefined ? '' : JSON.stringify(value, null, 2));
  const [bad, setBad] = useState(false);
  return (
    <Field label={`${label} (JSON)`} issue={bad ? 'not valid JSON' : issue} required={required}>
      {(id, describedBy) => (
        <textarea
          id={id}
          rows={Math.min(8, Math.max(2, text.split('\n').length))}
          value={text}
          spellCheck={false}
          aria-invalid={bad || issue ? true : undefined}
          aria-describedby={describedBy}
          onChange={(e) => {
            setText(e.target.value);
            try {
              onChange(e.target.value.trim() === '' ? undefined : JSON.parse(e.target.value));
              setBad(false);
              ctx.setJsonError(path.join('.'), false);
            } catch {
              setBad(true);
              ctx.setJsonError(path.join('.'), true);
            }
          }}
        />
      )}
    </Field>
  );
}
