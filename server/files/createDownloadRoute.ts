import { pipeline } from 'node:stream/promises';
import type { RequestHandler } from 'express';
import { verifyToken, type Caller } from '../auth/token.ts';
import { toError } from '../jobs/errors.ts';
import { checkFileLink } from './fileLinks.ts';
import { findGeneratedFile } from './findGeneratedFile.ts';
import type { FilesDeps } from './filesDeps.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BEARER = /^Bearer[ ]+([A-Za-z0-9._~+/=-]+)\s*$/i;

/**
 * `GET /api/files/:fileId`: streams a generated file to a bearer-token caller of the file's
 * organization, or to the holder of a valid signed link. Anyone else gets 404, whether or not
 * the file exists, so ids of other organizations' files reveal nothing.
 */
export function createDownloadRoute(
  deps: FilesDeps,
  /** Verifies bearer tokens; pass tRPC's verifier so both accept the same tokens. Default HS256 with `authSecret`. */
  verify: (token: string) => Promise<Caller | null> = (token) => verifyToken(token, deps.authSecret),
): RequestHandler<{ fileId: string }> {
  return async (req, res) => {
    const { fileId } = req.params;
    const notFound = () => void res.status(404).json({ error: 'not found' });
    if (!UUID.test(fileId)) return notFound();

    let organizationId: number | undefined;
    if (req.query.sig !== undefined) {
      const link = checkFileLink({ fileId, expires: req.query.expires, sig: req.query.sig, secret: deps.authSecret });
      if (link === 'invalid') return notFound();
      // A genuine but stale link: its holder already knows the file exists.
      if (link === 'expired') return void res.status(403).json({ error: 'download link expired' });
    } else {
      const token = BEARER.exec(req.headers.authorization ?? '')?.[1];
      const caller = token ? await verify(token) : null;
      if (!caller) return void res.status(401).json({ error: 'unauthorized' });
      organizationId = caller.organizationId;
    }

    const file = await findGeneratedFile(deps.db, fileId, organizationId);
    if (!file) return notFound();
    if (file.expiresAt.getTime() < Date.now()) return void res.status(410).json({ error: 'file expired' });

    let body;
    try {
      body = await deps.storage.read(file.storageKey);
    } catch (error) {
      deps.log.warn({ err: toError(error), fileId }, '[files] Stored file missing');
      return notFound();
    }
    res.status(200).set({
      'Content-Type': file.contentType,
      'Content-Length': String(file.bytes),
      'Content-Disposition': `attachment; filename="${file.fileName}"`,
      'Cache-Control': 'private, no-store',
    });
    try {
      await pipeline(body, res);
    } catch (error) {
      // The client went away mid-download; nothing to answer any more.
      deps.log.debug({ err: toError(error), fileId }, '[files] Download interrupted');
    }
  };
}
