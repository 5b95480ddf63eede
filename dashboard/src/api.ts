import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { useQuery } from '@tanstack/react-query';
import { createJobsClient, type JobsClient } from '../../client/createJobsClient.ts';
import type { AppRouter } from '../../server/trpc/root.ts';

export type Outputs = inferRouterOutputs<AppRouter>;
export type Inputs = inferRouterInputs<AppRouter>;
export type Me = Outputs['dashboard']['me'];

const TOKEN_KEY = 'jobwire.token';

/** The token lives for the tab only (sessionStorage): closing it signs out. */
export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  signIn: (token: string) => sessionStorage.setItem(TOKEN_KEY, token),
  signOut: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** One client for the app, same-origin `/trpc`, reading the current token per request. */
export const api: JobsClient = createJobsClient({ url: new URL('/trpc', location.origin).href, token: () => session.token() ?? '' });

/** The verified caller (role, organization), or an error when the token is refused. */
export const useMe = (token: string | null) =>
  useQuery({ queryKey: ['me', token], queryFn: () => api.dashboard.me.query(), enabled: token !== null, retry: false, staleTime: Infinity });

/** A tRPC error's message, for a visible error line. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
