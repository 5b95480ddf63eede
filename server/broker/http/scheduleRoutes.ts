import type { BrokerContext } from '../brokerContext.ts';
import { badRequest, notFound } from '../errors.ts';
import { parseMessageOptions } from '../publish/parseMessageOptions.ts';
import { resolveDestinations } from '../publish/resolveDestinations.ts';
import { validateName } from '../publish/validateUrl.ts';
import { nextCronTime, parseCron } from '../schedules/parseCron.ts';
import { deleteSchedule, getSchedule, listSchedules, newScheduleId, scheduleJson, setSchedulePaused, upsertSchedule } from '../schedules/scheduleStore.ts';
import { ok, type BrokerRequest, type BrokerResponse, type Route } from './types.ts';

async function create(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const cron = req.headers.get('upstash-cron');
  if (!cron) throw badRequest('missing Upstash-Cron header');
  parseCron(cron);
  const { notBeforeMs: _ignored, ...template } = parseMessageOptions(req.headers);
  // Each firing would reuse one run id; schedule the workflow endpoint itself instead (the SDK starts a run per call).
  if (template.workflow) throw badRequest('a schedule cannot carry Upstash-Workflow-RunId: schedule the workflow URL without it');
  const queueName = req.headers.get('upstash-queue-name');
  if (queueName !== undefined) template.queueName = validateName(queueName, 'queue name');
  template.callerIp = req.callerIp;
  await resolveDestinations(ctx.db, req.rest); // validates now; resolved again at each firing
  const id = validateName(req.headers.get('upstash-schedule-id') ?? newScheduleId(), 'schedule id');
  const now = ctx.now();
  const next = nextCronTime(cron, now);
  await upsertSchedule(ctx.db, { id, cron: cron.trim(), destination: req.rest, template, body: req.body, createdAt: now, isPaused: false, nextScheduleTime: next });
  ctx.dispatcher.scheduleAt(id, next);
  return ok({ scheduleId: id }, 201);
}

async function get(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const schedule = await getSchedule(ctx.db, req.params.id as string);
  if (!schedule) throw notFound('schedule not found');
  return ok(scheduleJson(schedule));
}

async function list(ctx: BrokerContext): Promise<BrokerResponse> {
  return ok((await listSchedules(ctx.db)).map(scheduleJson));
}

async function remove(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const id = req.params.id as string;
  if (!(await deleteSchedule(ctx.db, id))) throw notFound('schedule not found');
  ctx.dispatcher.unschedule(id);
  return ok();
}

async function pause(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const id = req.params.id as string;
  if (!(await setSchedulePaused(ctx.db, id, true, null))) throw notFound('schedule not found');
  ctx.dispatcher.unschedule(id);
  return ok();
}

/** Resuming continues from now: slots that passed while paused are not fired. */
async function resume(ctx: BrokerContext, req: BrokerRequest): Promise<BrokerResponse> {
  const id = req.params.id as string;
  const schedule = await getSchedule(ctx.db, id);
  if (!schedule) throw notFound('schedule not found');
  const next = nextCronTime(schedule.cron, ctx.now());
  await setSchedulePaused(ctx.db, id, false, next);
  ctx.dispatcher.scheduleAt(id, next);
  return ok();
}

export const scheduleRoutes: Route[] = [
  { methods: ['POST', 'PATCH'], pattern: '/v2/schedules/:id/pause', handler: pause },
  { methods: ['POST', 'PATCH'], pattern: '/v2/schedules/:id/resume', handler: resume },
  { methods: ['GET'], pattern: '/v2/schedules', handler: list },
  { methods: ['GET'], pattern: '/v2/schedules/:id', handler: get },
  { methods: ['DELETE'], pattern: '/v2/schedules/:id', handler: remove },
  { methods: ['POST'], pattern: '/v2/schedules/*', handler: create },
];
