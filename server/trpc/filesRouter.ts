import { FileLinkInput, type FileLink } from '../../shared/filesApi.ts';
import { mintFileLink } from '../files/mintFileLink.ts';
import { apiError } from './errors.ts';
import { protectedProcedure, router } from './trpc.ts';

/**
 * `files.*`: generated files (exports, reports). Any role of the file's organization, as for a
 * bearer-token download: `files.link` gives a browser a fresh signed link (an `<a href>` cannot
 * send a token) once the one in the job's result has expired.
 */
export const filesRouter = router({
  link: protectedProcedure.input(FileLinkInput).mutation(({ ctx, input }): Promise<FileLink> => {
    if (!ctx.files) throw apiError('FILE_NOT_FOUND', `File ${input.fileId} not found`); // a server without file storage
    return mintFileLink(ctx.files, ctx.scope, input.fileId);
  }),
});
