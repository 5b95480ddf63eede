import { dashboardRouter } from './dashboardRouter.ts';
import { filesRouter } from './filesRouter.ts';
import { jobsRouter } from './jobsRouter.ts';
import { opsRouter } from './opsRouter.ts';
import { createCallerFactory, router } from './trpc.ts';
import { webhooksRouter } from './webhooksRouter.ts';

export const appRouter = router({ jobs: jobsRouter, webhooks: webhooksRouter, files: filesRouter, ops: opsRouter, dashboard: dashboardRouter });

/** The router's type: all a client needs (`import type`). */
export type AppRouter = typeof appRouter;

/** Calls procedures in-process: `createCaller(createInnerContext({ deps, log, caller })).jobs.get(…)`. */
export const createCaller = createCallerFactory(appRouter);
