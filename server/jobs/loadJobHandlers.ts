import { existsSync } from 'node:fs';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { JOB_TYPE_LIST, jobTypeConfig, type AvailableJobType, type JobType } from '../../shared/catalogue.ts';
import { defineJobHandler, isJobHandlerDefinition, type HandlerServices, type JobHandlerDefinition } from './defineJobHandler.ts';
import { JobError } from './errors.ts';
import type { HandlerRegistry, JobHandler } from './handlers.ts';

/** `server/handlers/`: one file per job type, named after it (`send-email.ts`). */
export const HANDLERS_DIR = new URL('../handlers/', import.meta.url);

// Run from source this module is `.ts`, in a compiled build `.js`: name the file to create alike.
const OWN_EXTENSION = extname(fileURLToPath(import.meta.url));
const EXTENSIONS = ['.ts', '.js'];

/** One handler definition per available job type. */
export type HandlerDefinitions = { readonly [T in AvailableJobType]: JobHandlerDefinition<T> };

export interface LoadJobHandlersOptions {
  /** Folder of the handler files. Default `HANDLERS_DIR`. */
  dir?: URL | string | undefined;
  /** Handlers given in code; each stands in for (and skips) its type's file. */
  overrides?: Partial<HandlerRegistry> | undefined;
}

const isAvailable = (type: JobType): type is AvailableJobType => jobTypeConfig(type).availability === 'available';

/**
 * Imports `<dir>/<type>.ts` (or `.js`) for every available catalogue type that has no override,
 * and checks it default-exports `defineJobHandler('<type>', …)`. The catalogue is the only list
 * of types: a missing or mismatched file fails start-up, naming the file to create.
 */
export async function loadJobHandlers(options: LoadJobHandlersOptions = {}): Promise<HandlerDefinitions> {
  const dir = toDirUrl(options.dir ?? HANDLERS_DIR);
  const loaded = await Promise.all(
    JOB_TYPE_LIST.filter(isAvailable).map(async (type): Promise<JobHandlerDefinition> => {
      const override = options.overrides?.[type];
      // The registry pairs each type with its own handler; a loop over the union cannot see that.
      return override ? defineJobHandler(type, override as JobHandler<AvailableJobType>) : importDefinition(dir, type);
    }),
  );
  // One definition per available type, each checked to be that type's.
  return Object.fromEntries(loaded.map((definition) => [definition.type, definition])) as HandlerDefinitions;
}

/** Builds every handler from its definition with the running server's services. */
export function createHandlerRegistry(definitions: HandlerDefinitions, services: HandlerServices): HandlerRegistry {
  // Each definition builds its own type's handler; the entries pair them back up by type.
  const all = Object.values(definitions) as JobHandlerDefinition<AvailableJobType>[];
  return Object.fromEntries(all.map((definition) => [definition.type, definition.create(services)])) as HandlerRegistry;
}

async function importDefinition(dir: URL, type: AvailableJobType): Promise<JobHandlerDefinition> {
  const expected = `defineJobHandler('${type}', …)`;
  const file = EXTENSIONS.map((extension) => new URL(`${type}${extension}`, dir)).find((url) => existsSync(url));
  if (!file) {
    const missing = shown(new URL(`${type}${OWN_EXTENSION}`, dir));
    throw new JobError(
      `Job type '${type}' has no handler: create ${missing} with \`export default ${expected}\` (docs/adding-a-job-type.md), or pass it in ServerConfig.handlers`,
      'HANDLER_NOT_FOUND',
    );
  }
  const module = (await import(file.href)) as { default?: unknown };
  const definition = module.default;
  if (!isJobHandlerDefinition(definition)) {
    throw new JobError(`${shown(file)} must \`export default ${expected}\``, 'HANDLER_NOT_FOUND');
  }
  if (definition.type !== type) {
    throw new JobError(`${shown(file)} defines the handler of '${definition.type}', not '${type}': it must \`export default ${expected}\``, 'HANDLER_NOT_FOUND');
  }
  return definition;
}

function toDirUrl(dir: URL | string): URL {
  if (dir instanceof URL) return dir.href.endsWith('/') ? dir : new URL(`${dir.href}/`);
  return pathToFileURL(resolve(dir) + sep);
}

/** A file's path relative to the working directory (the repository root under npm scripts). */
function shown(file: URL): string {
  const path = fileURLToPath(file);
  const fromCwd = relative(process.cwd(), path);
  return fromCwd.startsWith('..') || isAbsolute(fromCwd) ? path : fromCwd;
}
