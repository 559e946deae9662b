import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PassVerificationSchema, PassVerifyBodySchema, SignedRevocationListSchema } from '@vytis/contracts';
import { Type } from 'typebox';
import { access } from '../../http/access.ts';
import type { Services } from '../../http/services.ts';

/** Whether an If-None-Match header names this entity tag (or is `*`); weak tags compare weakly. */
export function matchesEtag(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const strip = (tag: string) => tag.trim().replace(/^W\//, '');
  return (Array.isArray(header) ? header : [header])
    .flatMap((value) => value.split(','))
    .some((tag) => tag.trim() === '*' || strip(tag) === strip(etag));
}

export const passesRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/passes/revocations',
    {
      config: { access: access.public },
      schema: {
        tags: ['passes'],
        summary:
          'The revocation list, signed by the node key; public, so a host fetches it without an account',
        description:
          'Trust `signed` (a JWS verifiable with GET /node/keys), not the plain copy beside it. ' +
          'It names the revoked passes that have not expired: a pass expires at the end of its ' +
          "deployment's window, and its revocation stays listed for 24 h after that (for verifiers " +
          'whose clock lags), then leaves the list: an expired pass is refused as expired anyway. ' +
          'The list is signed again when it changes and at least every hour, so its `iat` ' +
          '(`issuedAt`) says how fresh it is; `vytis pass verify --node` refuses one signed more than ' +
          '24 h ago (`--max-age`). Each answer carries an `ETag`; send it back as `If-None-Match` to ' +
          'get a 304 while the signed list is unchanged (`Cache-Control: no-cache`: a cache in between ' +
          'must ask again every time). ' +
          '`vytis pass verify TOKEN --node URL` fetches and checks it; or save this response and pass it ' +
          'as `--revoked FILE`.',
        response: {
          200: SignedRevocationListSchema,
          304: Type.Null({ description: 'not modified: the list named by If-None-Match is current' }),
        },
      },
    },
    async (request, reply) => {
      const { body, etag } = await services.passes.signedRevocationList();
      // A host must never act on a stale copy kept by a cache in between: caches revalidate each time.
      reply.header('cache-control', 'no-cache').header('etag', etag);
      if (matchesEtag(request.headers['if-none-match'], etag)) return reply.status(304).send(null);
      return body;
    },
  );

  app.post(
    '/passes/verify',
    {
      config: { access: access.anyUser },
      schema: {
        tags: ['passes'],
        summary:
          'Verify a pass a host was shown: valid, revoked, expired, or not signed by this node or a peer',
        description:
          "The same check as `vytis pass verify`: the signature (EdDSA) with this node's key, or with the " +
          "pinned key of the peer that signed it; revocation against this node's own list, or the peer's " +
          'list its feed carried (as fresh as the last successful pull, at most 24 h); then the window. ' +
          "`token` is the compact JWS or the text of the pass's QR code. A token that is no pass is a 200 " +
          'with verdict `invalid` and the reason.',
        body: PassVerifyBodySchema,
        response: { 200: PassVerificationSchema },
      },
    },
    async (request) => services.passes.verify(request.body.token),
  );
};
