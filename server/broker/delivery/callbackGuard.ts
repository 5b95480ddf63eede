import { isIP, type LookupFunction } from 'node:net';
import { judgeAddress, judgeHost, type PrivateCallbacks } from '../../security/addressRanges.ts';
import { systemLookup, type CallbackPolicy, type HostLookup } from '../../security/checkCallbackUrl.ts';

/** A callback the policy forbids: the message fails at once (retrying would change nothing). */
export class CallbackRefusedError extends Error {
  override readonly name = 'CallbackRefusedError';
  constructor(reason: string) {
    super(`callback refused: ${reason}`);
  }
}

/**
 * How a callback to `url` may connect: refused at once (an address literal in any spelling, or
 * an internal name), or through a lookup that refuses a name when any address it resolves to is
 * refused. The check runs on the connection's own resolution, so a name pointed elsewhere after
 * publish (DNS rebinding) is caught too. `undefined`: connect as any delivery does.
 */
export function guardCallback(url: string, policy: CallbackPolicy & { privateAddresses: PrivateCallbacks }): LookupFunction | undefined {
  let hostname: string;
  try {
    hostname = new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    throw new CallbackRefusedError('invalid url');
  }
  const judged = judgeHost(hostname, policy.privateAddresses);
  if (judged === 'allowed') return undefined;
  if (judged !== 'resolve') throw new CallbackRefusedError(judged.refused);
  return guardedLookup(policy.lookup ?? systemLookup, policy.privateAddresses);
}

function guardedLookup(resolveAll: HostLookup, mode: PrivateCallbacks): LookupFunction {
  return (hostname, options, callback) => {
    resolveAll(hostname)
      .then((addresses) => {
        for (const address of addresses) {
          const refused = judgeAddress(hostname, address, mode);
          if (refused) throw new CallbackRefusedError(refused);
        }
        const entries = addresses.map((address) => ({ address, family: isIP(address) })).filter((e) => !options.family || e.family === options.family);
        const first = entries[0];
        if (!first) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
        if (options.all) callback(null, entries);
        else callback(null, first.address, first.family);
      })
      .catch((error: NodeJS.ErrnoException) => callback(error, '', 0));
  };
}
