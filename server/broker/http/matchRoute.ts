import type { Route } from './types.ts';

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
  rest: string;
}

/** Finds the route for a request target; `allowed` lists methods when only the method is wrong. */
export function matchRoute(routes: readonly Route[], method: string, rawUrl: string): { match?: RouteMatch; allowed: string[] } {
  const queryAt = rawUrl.indexOf('?');
  const rawPath = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
  const segments = rawPath.split('/').slice(1);
  const allowed: string[] = [];
  for (const route of routes) {
    const found = matchPattern(route.pattern, rawUrl, rawPath, segments);
    if (!found) continue;
    if (!route.methods.includes(method)) {
      allowed.push(...route.methods);
      continue;
    }
    return { match: { route, ...found }, allowed };
  }
  return { allowed };
}

function matchPattern(pattern: string, rawUrl: string, rawPath: string, segments: string[]): { params: Record<string, string>; rest: string } | undefined {
  if (pattern.endsWith('/*')) {
    const before = pattern.slice(0, -2).split('/').slice(1);
    if (segments.length <= before.length) return undefined;
    const params = matchSegments(before, segments.slice(0, before.length));
    if (!params) return undefined;
    // One '/' before each fixed segment, plus the '/' that starts the remainder.
    const consumed = segments.slice(0, before.length).reduce((n, s) => n + 1 + s.length, 0) + 1;
    const rest = rawUrl.slice(consumed);
    return rest === '' ? undefined : { params, rest };
  }
  const parts = pattern.split('/').slice(1);
  if (parts.length !== segments.length) return undefined;
  const params = matchSegments(parts, segments);
  return params ? { params, rest: '' } : undefined;
}

function matchSegments(parts: string[], segments: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    const segment = segments[i];
    if (segment === undefined) return undefined;
    if (part.startsWith(':')) {
      if (segment === '') return undefined;
      try {
        params[part.slice(1)] = decodeURIComponent(segment);
      } catch {
        return undefined;
      }
    } else if (part !== segment) {
      return undefined;
    }
  }
  return params;
}
