import type { Role } from '@vytis/contracts';
import type { Ctx } from '../context.ts';
import { AppError } from '../errors.ts';
import type { Services } from '../http/services.ts';

/** `vytis user disable|enable|roles|password|end-sessions NAME`: containing an account by name. */
export type UserAccountCommand =
  | { name: 'user.disable'; userName: string; reason?: string | undefined }
  | { name: 'user.enable'; userName: string }
  | { name: 'user.roles'; userName: string; roles: Role[] }
  | { name: 'user.password'; userName: string; password: string }
  | { name: 'user.end-sessions'; userName: string }
  | { name: 'user.mfa-reset'; userName: string };

/** Runs as the local operator, who acts as an admin: the same rules and audit as the API. */
export async function runUserAccountCommand(services: Services, ctx: Ctx, command: UserAccountCommand) {
  const id = await services.identity.userIdByName(command.userName);
  if (!id) throw new AppError('not_found', `no user named ${command.userName}`);
  const { accounts } = services;
  switch (command.name) {
    case 'user.disable': {
      await accounts.disable(ctx, id, { reason: command.reason });
      const user = command.userName;
      return `disabled ${user}; their sessions and API tokens no longer work\n`;
    }
    case 'user.enable':
      await accounts.enable(ctx, id);
      return `enabled ${command.userName}\n`;
    case 'user.roles': {
      const user = await accounts.setRoles(ctx, id, command.roles);
      return `${user.name}: ${user.roles.join(', ')}\n`;
    }
    case 'user.password':
      await accounts.resetPassword(ctx, id, command.password);
      return `password of ${command.userName} set; their web sessions ended\n`;
    case 'user.mfa-reset':
      await accounts.resetMfa(ctx, id);
      return `removed the second factor of ${command.userName}; their web sessions ended\n`;
    case 'user.end-sessions': {
      const ended = await accounts.endSessions(ctx, id);
      return `ended ${ended.sessions} session(s) and revoked ${ended.tokens} token(s) of ${command.userName}\n`;
    }
  }
}
