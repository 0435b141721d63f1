import { SignJWT } from 'jose';

// Clair signs every webhook delivery when auth.psk is configured (internal/httputil/signer.go, with the notifier's
// claim from initialize/services.go): "Authorization: Bearer <JWT>", HS256 with the base64-decoded PSK, claims
// iss "clair-notifier", iat now, nbf one minute ago and exp in one minute (go-jose's DefaultLeeway). Quay's
// /secscan/notification verifies exactly that (HS256; nbf, iat and exp required) and answers 401 without it.
// Without a PSK, deliveries are not signed. (Clair's notifier.webhook.signed is deprecated and changes nothing.)

export const NOTIFIER_ISSUER = 'clair-notifier';
const LEEWAY_SECONDS = 60;

export type RequestSigner = () => Promise<string>;

/** A function that returns a fresh Authorization header value for each delivery. */
export function webhookSigner(pskKey: Uint8Array, now: () => number = Date.now): RequestSigner {
  return async () => {
    const t = Math.floor(now() / 1000);
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(NOTIFIER_ISSUER)
      .setIssuedAt(t)
      .setNotBefore(t - LEEWAY_SECONDS)
      .setExpirationTime(t + LEEWAY_SECONDS)
      .sign(pskKey);
    return `Bearer ${jwt}`;
  };
}
