import superjson from 'superjson';
import type { CombinedDataTransformer } from '@trpc/server';

/**
 * superjson on the wire, except that client input may not create shared references:
 * `meta.referentialEqualities` would let a 2 KB body turn its `json` into a DAG that every
 * tree walk (validation, size checks, JSONB encoding) visits once per path — minutes of CPU per
 * call. superjson's `json` already carries a full copy at every path, so dropping the
 * annotation changes no value, only the sharing.
 */
export const inputTransformer: CombinedDataTransformer = {
  input: {
    serialize: (value: unknown) => superjson.serialize(value),
    deserialize: (value: unknown) => superjson.deserialize(withoutSharedReferences(value) as Parameters<typeof superjson.deserialize>[0]),
  },
  output: {
    serialize: (value: unknown) => superjson.serialize(value),
    deserialize: (value: unknown) => superjson.deserialize(value as Parameters<typeof superjson.deserialize>[0]),
  },
};

function withoutSharedReferences(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || !('meta' in value)) return value;
  const { meta } = value as { meta?: unknown };
  if (typeof meta !== 'object' || meta === null || !('referentialEqualities' in meta)) return value;
  const { referentialEqualities: _dropped, ...rest } = meta as Record<string, unknown>;
  return { ...value, meta: rest };
}
