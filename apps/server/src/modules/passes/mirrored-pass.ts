import { conflict, notFound } from '../../errors.ts';
import type { Executor } from '../../platform/db/transaction.ts';
import * as deployments from '../deployments/deployments.repository.ts';
import { passIdOf } from './pass.ts';
import { passQrSvg } from './qr.ts';

/** The key id (`kid`) in a compact JWS's header, unverified: for display, the pass is verified at the door. */
function keyIdOf(token: string): string | null {
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8'));
    return typeof header?.kid === 'string' ? header.kid : null;
  } catch {
    return null;
  }
}

/**
 * A member's pass on a copied deployment: the token the coordinating node signed and sent with the
 * deployment (only to the member's home party and the host), in the shape DeploymentsService.pass()
 * answers with. The caller has already decided who may hold it; this node signs nothing.
 */
export async function mirroredPass(db: Executor, deploymentId: string, responderId: string) {
  const row = await deployments.copiedPass(db, deploymentId, responderId);
  if (row?.status !== 'released') throw notFound(`a released responder ${responderId} on this deployment`);
  const passId = row.pass_token ? passIdOf(row.pass_token) : null;
  const keyId = row.pass_token ? keyIdOf(row.pass_token) : null;
  if (!row.pass_token || !passId || !keyId) {
    throw conflict(
      `passes are issued by ${row.mirrored_from ? `${row.mirrored_from}'s` : 'the coordinating'} node, which has not issued this one yet (or not sent it here)`,
    );
  }
  return {
    pass: row.pass_token,
    passId,
    keyId,
    expiresAt: row.window_to.toISOString(),
    qrSvg: await passQrSvg(row.pass_token),
  };
}
