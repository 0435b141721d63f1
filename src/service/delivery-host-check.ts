import { lookup } from 'node:dns/promises';
import { ClairError } from '../model/errors.ts';
import type { HostCheck } from '../notifier/subscription-input.ts';
import { isPrivateAddress, normalizeAddress } from './address-guard.ts';

// Where subscriptions may deliver: not to loopback, private, link-local or unique-local addresses (the same list
// as layer fetches, address-guard.ts) unless notifier.allow_private_addresses is set; a subscription must not
// become a way to make the server talk to its own network. A name is resolved and every address it has checked.
// The check runs when a subscription is made and again before each delivery.

export function deliveryHostCheck(allowPrivate: boolean, howToAllow = 'set notifier.allow_private_addresses to allow it'): HostCheck {
  return async (host, field) => {
    if (allowPrivate) return;
    const refuse = (address: string) =>
      new ClairError('bad-input', `subscription: ${field} host ${host}${address === host ? '' : ` resolves to ${address}, which`} is a loopback, private or link-local address; ${howToAllow}`);
    if (normalizeAddress(host) !== undefined) {
      if (isPrivateAddress(host)) throw refuse(host);
      return;
    }
    let addresses: { address: string }[];
    try {
      addresses = await lookup(host, { all: true });
    } catch (e) {
      throw new ClairError('bad-input', `subscription: ${field} host ${host} does not resolve (${(e as NodeJS.ErrnoException).code ?? 'lookup failed'})`, { cause: e });
    }
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad) throw refuse(bad.address);
  };
}
