import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { generatedFiles, type GeneratedFileRow } from '../db/filesSchema.ts';

/** A generated file by id, within `organizationId` when given (a signed link names no organization). */
export async function findGeneratedFile(db: Db, fileId: string, organizationId: number | undefined): Promise<GeneratedFileRow | undefined> {
  const byOrg = organizationId === undefined ? undefined : eq(generatedFiles.organizationId, organizationId);
  const [row] = await db.select().from(generatedFiles).where(and(eq(generatedFiles.id, fileId), byOrg)).limit(1);
  return row;
}
