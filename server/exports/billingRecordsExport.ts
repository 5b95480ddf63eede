import { inArray } from 'drizzle-orm';
import { z } from 'zod';
import { billingSubscriptions as t } from '../db/billingSchema.ts';
import { defineTableExport } from './defineTableExport.ts';
import { oneOrMany } from './filterSchemas.ts';

export const BillingRecordsExportFilters = z.strictObject({
  /** Stripe subscription statuses (`active`, `past_due`, …). */
  status: oneOrMany(z.string().min(1).max(50)).optional(),
});

/** `billing-records`: the organization's Stripe subscriptions as last applied, oldest first. */
export const billingRecordsExport = defineTableExport({
  description: "The organization's billing subscriptions",
  // The organization's billing: admins only.
  access: 'admin',
  table: t,
  organizationId: t.organizationId,
  keyset: [t.createdAt, t.stripeSubscriptionId],
  columns: {
    stripeSubscriptionId: t.stripeSubscriptionId,
    stripeCustomerId: t.stripeCustomerId,
    plan: t.plan,
    status: t.status,
    currentPeriodEnd: t.currentPeriodEnd,
    lastEventId: t.lastEventId,
    lastEventAt: t.lastEventAt,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
  },
  filters: BillingRecordsExportFilters,
  where: (f) => [f.status ? inArray(t.status, f.status) : undefined],
});
