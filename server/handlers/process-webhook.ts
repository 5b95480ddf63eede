import { defineJobHandler } from '../jobs/defineJobHandler.ts';
import { createProcessWebhookHandler } from '../webhooks/processWebhookHandler.ts';

/** Stores a generic webhook event and runs the handlers registered for it (`ServerConfig.webhookHandlers`). */
export default defineJobHandler('process-webhook', {
  create: ({ db, webhookHandlers }) => createProcessWebhookHandler({ db, handlers: webhookHandlers }),
});
