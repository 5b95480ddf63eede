import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { errorMessage } from '../api.ts';
import { BASE } from '../router.tsx';

const ROLES = ['operator', 'admin', 'member'] as const;

/**
 * Paste a bearer token (`npm run token -- --user 1 --org 1 --role admin`), or, on a server
 * running on the dev AUTH_SECRET, take one minted for the dev organization.
 */
export function SignIn({ onSignIn, refused }: { onSignIn: (token: string) => void; refused?: unknown }) {
  const [token, setToken] = useState('');
  const [devError, setDevError] = useState<string>();
  const dev = useQuery({
    queryKey: ['dev-token'],
    queryFn: async () => (await fetch(`${BASE}/api/dev-token`)).json() as Promise<{ enabled: boolean; organizationId: number }>,
    retry: false,
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (token.trim()) onSignIn(token.trim());
  };
  const devSignIn = async (role: (typeof ROLES)[number]) => {
    setDevError(undefined);
    const response = await fetch(`${BASE}/api/dev-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role }) });
    const body = (await response.json()) as { token?: string; error?: string };
    if (body.token) onSignIn(body.token);
    else setDevError(body.error ?? `HTTP ${response.status}`);
  };
  return (
    <main id="main" className="signin">
      <h1>Sign in to jobwire</h1>
      {refused !== undefined && (
        <p className="error" role="alert">
          The token was refused: {errorMessage(refused)}
        </p>
      )}
      <form onSubmit={submit}>
        <div className="field">
          <label htmlFor="token">Bearer token</label>
          <textarea id="token" rows={4} value={token} onChange={(e) => setToken(e.target.value)} spellCheck={false} autoComplete="off" aria-describedby="token-help" />
          <span id="token-help" className="muted">
            From your auth provider, or <code>npm run token -- --user 1 --org 1 --role admin</code>. Kept for this tab only.
          </span>
        </div>
        <button type="submit" className="primary">
          Sign in
        </button>
      </form>
      {dev.data?.enabled && (
        <section aria-labelledby="dev-heading" className="card">
          <h2 id="dev-heading">Development sign-in</h2>
          <p className="muted">This server runs on the public dev AUTH_SECRET, so it mints tokens for organization {dev.data.organizationId}. Never in production.</p>
          <div className="row">
            {ROLES.map((role) => (
              <button key={role} type="button" onClick={() => void devSignIn(role)}>
                Sign in as {role}
              </button>
            ))}
          </div>
          {devError && (
            <p className="error" role="alert">
              {devError}
            </p>
          )}
        </section>
      )}
    </main>
  );
}
