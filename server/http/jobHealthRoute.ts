import type { RequestHandler } from 'express';
import type { TokenVerifier } from '../auth/token.ts';
import type { DbOrTx } from '../db/database.ts';
import { jobHealth, type JobHealthThresholds } from '../jobs/jobHealth.ts';
import { ALL_ORGANIZATIONS, type Scope } from '../jobs/scope.ts';

const BEARER = /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)\s*$/i;

/**
 * `GET /api/admin/job-health`: the seed's monitoring endpoint (its `stats`, `failureRate`,
 * `totalJobs` and `health`), with the other signals and each unhealthy one's cause in words
 * (`causes`, `signals`). An admin sees its organization's jobs, an operator every
 * organization's; members get 403, callers without a valid token 401.
 */
export function createJobHealthRoute(db: DbOrTx, verify: TokenVerifier, thresholds?: JobHealthThresholds): RequestHandler {
  return async (req, res) => {
    const token = BEARER.exec(req.headers.authorization ?? '')?.[1];
    const caller = token ? await verify(token) : null;
    if (!caller) return void res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'unauthorized' });
    let scope: Scope;
    if (caller.role === 'operator') scope = ALL_ORGANIZATIONS;
    else if (caller.role === 'admin') scope = { organizationId: caller.organizationId };
    else return void res.status(403).json({ error: 'admin or operator role required' });
    res.set('Cache-Control', 'no-store').json(await jobHealth(db, scope, thresholds));
  };
}
