import { z } from 'zod';

/** A value or a list of them (1–20); always a list once parsed. */
export const oneOrMany = <S extends z.ZodType>(schema: S) =>
  z.union([schema, z.array(schema).min(1).max(20)]).transform((v): z.output<S>[] => (Array.isArray(v) ? v : [v]));

/** An ISO date (`2025-01-31`, midnight UTC) or a date-time with offset. */
export const Instant = z.union([z.iso.datetime({ offset: true }), z.iso.date()]).transform((s) => new Date(s));
