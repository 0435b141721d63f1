import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { HttpError } from './errors.ts';

// Clair's PSK authentication (middleware/auth/httpauth_psk.go): a JWT in "Authorization: Bearer", signed with HMAC
// (HS256, HS384 or HS512: go-jose verifies any of them with a byte-slice key) with the base64-decoded auth.psk.key, whose `iss` is in the allowlist. Clair always allows its intra-service
// issuer, which its services use to call each other; so does clair-ts (matcher → indexer). exp/nbf are checked
// when present, with Clair's 15 s leeway; a token without exp is accepted, as Clair accepts it.

export const INTRASERVICE_ISSUER = 'clair-intraservice';
const LEEWAY_SECONDS = 15;
export const PSK_ALGORITHMS = ['HS256', 'HS384', 'HS512'];

export interface PskConfig {
  key: Uint8Array;
  issuers: string[];
}

/** Resolves when the Authorization header holds an acceptable token; throws HttpError 401 saying why not. */
export function pskVerifier(psk: PskConfig): (authorization: string | undefined) => Promise<void> {
  const allowed = new Set([INTRASERVICE_ISSUER, ...psk.issuers]);
  return async (authorization) => {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!m) throw new HttpError(401, 'authorization required: send "Authorization: Bearer <JWT signed with the pre-shared key>"');
    let iss: unknown;
    try {
      const { payload } = await jwtVerify(m[1]!, psk.key, { algorithms: PSK_ALGORITHMS, clockTolerance: LEEWAY_SECONDS });
      iss = payload.iss;
    } catch (e) {
      const why =
        e instanceof joseErrors.JWTExpired ? 'token expired'
        : e instanceof joseErrors.JWSSignatureVerificationFailed ? 'token signature does not verify with the pre-shared key'
        : e instanceof joseErrors.JWTClaimValidationFailed ? `token claim ${e.claim} is not valid: ${e.reason}`
        : e instanceof joseErrors.JOSEAlgNotAllowed ? `token is not signed with ${PSK_ALGORITHMS.join(', ')}`
        : 'token is not a valid JWT';
      throw new HttpError(401, `unauthorized: ${why}`, { cause: e });
    }
    if (typeof iss !== 'string' || !allowed.has(iss)) {
      throw new HttpError(401, `unauthorized: token issuer ${typeof iss === 'string' ? JSON.stringify(iss) : '(none)'} is not allowed`);
    }
  };
}

/** A short-lived token for calls between clair-ts services (matcher → indexer). */
export function intraserviceToken(key: Uint8Array, audience: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(INTRASERVICE_ISSUER)
    .setAudience(audience)
    .setIssuedAt()
    .setNotBefore('-5s')
    .setExpirationTime('5m')
    .sign(key);
}
