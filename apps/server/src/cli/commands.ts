import type { Role } from '@vytis/contracts';
import { CLI_ACTOR, type Ctx } from '../context.ts';
import type { Services } from '../http/services.ts';
import { trustedKeyFromFile } from '../platform/keys.ts';
import { loadDemo } from './demo.ts';

/**
 * The administrative commands, written once over the services. The CLI runs them in-process when
 * no node is running, or sends them over the node's admin socket when one is.
 */
export type AdminCommand =
  | { name: 'migrate' }
  | { name: 'user.add'; userName: string; party: string; roles: Role[]; password?: string | undefined }
  | { name: 'token.issue'; userName: string; expiresInDays?: number | undefined; label?: string | undefined }
  | { name: 'token.revoke'; tokenId: string }
  /** keyFiles are absolute: the command may run in the node's process, not where it was typed. */
  | { name: 'audit.verify'; keyFiles?: string[] | undefined }
  | { name: 'audit.checkpoint' }
  | { name: 'demo' };

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

const ok = (stdout: string): CommandResult => ({ exitCode: 0, stdout, stderr: '' });
const fail = (stderr: string): CommandResult => ({ exitCode: 1, stdout: '', stderr });

export async function runCommand(
  services: Services,
  command: AdminCommand,
  context: { applied?: string[] } = {},
): Promise<CommandResult> {
  const ctx: Ctx = { actor: CLI_ACTOR, requestId: null };
  switch (command.name) {
    case 'migrate': {
      const applied = context.applied ?? [];
      return ok(applied.length > 0 ? `applied ${applied.join(', ')}\n` : 'migrations are up to date\n');
    }
    case 'user.add': {
      const user = await services.identity.createUser(ctx, {
        name: command.userName,
        party: command.party,
        roles: command.roles,
        ...(command.password === undefined ? {} : { password: command.password }),
      });
      return ok(`${user.id}\n`);
    }
    case 'token.issue': {
      const { token } = await services.identity.issueToken(ctx, command.userName, {
        expiresInDays: command.expiresInDays,
        label: command.label ?? 'cli',
      });
      return ok(`${token}\n`);
    }
    case 'token.revoke': {
      const token = await services.identity.revokeToken(ctx, command.tokenId);
      return ok(`revoked ${token.id}\n`);
    }
    case 'audit.verify': {
      const extra = new Map(
        (command.keyFiles ?? []).map((file) => {
          const key = trustedKeyFromFile(file);
          return [key.keyId, key.publicKey] as const;
        }),
      );
      const result = await services.audit.verify(extra);
      if (result.ok) return ok(`ok ${result.events} events, ${result.checkpoints} checkpoints\n`);
      return {
        exitCode: 1,
        stdout: `${result.firstBadSeq}\n`,
        stderr: `audit chain broken at event ${result.firstBadSeq}: ${result.reason}\n`,
      };
    }
    case 'audit.checkpoint': {
      const checkpoint = await services.audit.requestCheckpoint(ctx);
      return ok(`checkpoint ${checkpoint.id}: ${checkpoint.size} events, head ${checkpoint.head}\n`);
    }
    case 'demo':
      return ok(await loadDemo(services, ctx));
    default:
      return fail(`unknown command ${(command as { name: string }).name}\n`);
  }
}
