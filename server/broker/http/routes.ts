import { dlqRoutes } from './dlqRoutes.ts';
import { eventRoutes } from './eventRoutes.ts';
import { flowControlRoutes } from './flowControlRoutes.ts';
import { keyRoutes } from './keyRoutes.ts';
import { messageRoutes } from './messageRoutes.ts';
import { publishRoutes } from './publishRoutes.ts';
import { queueRoutes } from './queueRoutes.ts';
import { scheduleRoutes } from './scheduleRoutes.ts';
import type { Route } from './types.ts';
import { urlGroupRoutes } from './urlGroupRoutes.ts';
import { waitRoutes } from './waitRoutes.ts';
import { workflowDlqRoutes } from './workflowDlqRoutes.ts';
import { workflowRunRoutes } from './workflowRoutes.ts';

/** Every endpoint the broker serves; first match wins, so fixed paths precede `*` prefixes. */
export const ROUTES: readonly Route[] = [
  ...publishRoutes,
  ...messageRoutes,
  ...scheduleRoutes,
  ...dlqRoutes,
  ...eventRoutes,
  ...queueRoutes,
  ...keyRoutes,
  ...flowControlRoutes,
  ...urlGroupRoutes,
  ...workflowRunRoutes,
  ...workflowDlqRoutes,
  ...waitRoutes,
];
