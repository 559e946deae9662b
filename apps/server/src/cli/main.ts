import path from 'node:path';
import { ROLES, type Role, TLPS } from '@vytis/contracts';
import { Command, InvalidArgumentError, Option } from 'commander';
import { BULK_FORMATS } from '../modules/indicators/bulk-parse.ts';
import type { AdminCommand, CommandResult } from './commands.ts';
import type { DemoProgress } from './demo.ts';
import { describeError } from './describe-error.ts';
import type { ImportFlags } from './import.ts';

// Each command imports its code when it runs, so `--help`, an argument error or an offline
// `pass verify` loads neither the server nor a database driver (and starts in a fraction of the time).
const loadConfigOrExit = async () => (await import('../config.ts')).loadConfigOrExit();

/** Runs a command through the running node when there is one, else against the database directly. */
async function execute(
  command: AdminCommand,
  options: { onDemoProgress?: DemoProgress } = {},
): Promise<never> {
  finish(await obtain(command, options));
}

/** The same, handing back the result (for a command whose output the CLI turns into a file). */
async function obtain(command: AdminCommand, options: { onDemoProgress?: DemoProgress } = {}) {
  const config = await loadConfigOrExit();
  let result: CommandResult;
  try {
    const { adminSocketPath, isNodeListening, sendAdminCommand, sendDemo } = await import(
      './admin-socket.ts'
    );
    const socket = adminSocketPath(config.dataDir);
    if (await isNodeListening(socket)) {
      result =
        command.name === 'demo' && options.onDemoProgress
          ? await sendDemo(socket, options.onDemoProgress)
          : await sendAdminCommand(socket, command);
    } else {
      const [{ openServices }, { runCommand }] = await Promise.all([
        import('../node.ts'),
        import('./commands.ts'),
      ]);
      const { services, applied } = await openServices(config);
      try {
        result = await runCommand(services, command, { applied, ...options });
      } finally {
        // Adds answered at their commit are placed in the audit chain just after: let them be.
        await services.observables.settled();
        await services.database.close();
      }
    }
  } catch (error) {
    result = { exitCode: 1, stdout: '', stderr: describeError(error) };
  }
  return result;
}

function finish(result: CommandResult): never {
  process.stdout.write(result.stdout);
  if (result.stderr) process.stderr.write(result.stderr.replace(/^/gm, 'vytis: ').replace(/vytis: $/, ''));
  process.exit(result.exitCode);
}

async function readStdin(prompt = true): Promise<string> {
  if (prompt && process.stdin.isTTY) process.stderr.write('password: ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** A new password: typed twice, unseen, on a terminal; else standard input (its final newline dropped). */
async function readNewPassword(): Promise<string> {
  if (!process.stdin.isTTY) return readStdin(false);
  const first = await promptHidden('new password: ');
  const second = await promptHidden('again: ');
  if (first !== second)
    finish({ exitCode: 1, stdout: '', stderr: 'the two passwords differ; nothing changed\n' });
  return first;
}

function promptHidden(question: string): Promise<string> {
  return new Promise((resolve) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    stdin.resume();
    let value = '';
    const done = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolve(value);
          return;
        }
        if (ch === '\u0003' || ch === '\u0004') {
          done();
          finish({ exitCode: 130, stdout: '', stderr: 'cancelled; nothing changed\n' });
        }
        value = ch === '\u007f' || ch === '\b' ? value.slice(0, -1) : value + ch;
      }
    };
    stdin.on('data', onData);
  });
}

const positiveInt = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number');
  return n;
};

const program = new Command('vytis')
  .description('Vytis: operations platform of a multinational cyber rapid-response force')
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(text) });

program
  .command('start')
  .description('start a node (same as npm start)')
  .action(async () => {
    await import('../main.ts');
  });

program
  .command('migrate')
  .description('apply database migrations')
  .action(() => execute({ name: 'migrate' }));

program
  .command('demo')
  .description('load a demo world: people for every role, responders, requests, cases, a deployment')
  .action(() =>
    execute(
      { name: 'demo' },
      {
        // A line per step on standard error as it starts: the summary on standard output stays clean.
        onDemoProgress: ({ done, total, what }) =>
          process.stderr.write(`loading the demo (${done + 1}/${total}): ${what}…\n`),
      },
    ),
  );

const user = program.command('user').description('manage users');
user
  .command('add <name>')
  .description('create a user; prints its id')
  .requiredOption('--party <code>', 'party code (ISO 3166-1 alpha-2, or EU)')
  .addOption(
    new Option('--role <role>', 'a role (repeat for more)')
      .choices(ROLES)
      .argParser((value: string, previous: Role[] | undefined) => {
        if (!(ROLES as readonly string[]).includes(value)) {
          throw new InvalidArgumentError(`must be one of ${ROLES.join(', ')}`);
        }
        return [...(previous ?? []), value as Role];
      })
      .makeOptionMandatory(),
  )
  .option('--password-stdin', 'read a web-login password from standard input')
  .action(async (name: string, opts: { party: string; role: Role[]; passwordStdin?: boolean }) => {
    const password = opts.passwordStdin ? await readStdin() : undefined;
    await execute({ name: 'user.add', userName: name, party: opts.party, roles: opts.role, password });
  });

const roleOption = () =>
  new Option('--role <role>', 'a role (repeat for more)')
    .choices(ROLES)
    .argParser((value: string, previous: Role[] | undefined) => {
      if (!(ROLES as readonly string[]).includes(value)) {
        throw new InvalidArgumentError(`must be one of ${ROLES.join(', ')}`);
      }
      return [...(previous ?? []), value as Role];
    })
    .makeOptionMandatory();

user
  .command('disable <name>')
  .description('disable a user: their web sessions and API tokens stop working at once')
  .option('--reason <text>', 'why, for the audit log')
  .action((name: string, opts: { reason?: string }) =>
    execute({ name: 'user.disable', userName: name, reason: opts.reason }),
  );
user
  .command('enable <name>')
  .description('enable a disabled user (they log in again; old sessions and tokens stay ended)')
  .action((name: string) => execute({ name: 'user.enable', userName: name }));
user
  .command('roles <name>')
  .description("set a user's roles (all of them: the roles given replace the current ones)")
  .addOption(roleOption())
  .action((name: string, opts: { role: Role[] }) =>
    execute({ name: 'user.roles', userName: name, roles: opts.role }),
  );
user
  .command('password <name>')
  .description(
    "set a user's web-login password, read from standard input or asked for on a terminal (never from the command line); their web sessions end",
  )
  .action(async (name: string) => {
    const password = await readNewPassword();
    await execute({ name: 'user.password', userName: name, password });
  });
user
  .command('end-sessions <name>')
  .description('end all web sessions and revoke all API tokens of a user')
  .action((name: string) => execute({ name: 'user.end-sessions', userName: name }));
user
  .command('mfa-reset <name>')
  .description("remove a user's second factor (lost device and recovery codes); their web sessions end")
  .action((name: string) => execute({ name: 'user.mfa-reset', userName: name }));

const token = program.command('token').description('manage API tokens');
token
  .command('issue <name>')
  .description('issue an API token for a user; prints the token alone (it is not stored, only its hash)')
  .option('--expires-in-days <days>', 'lifetime in days (default VYTIS_TOKEN_TTL_DAYS)', positiveInt)
  .option('--label <label>', 'a note saying what the token is for')
  .action((name: string, opts: { expiresInDays?: number; label?: string }) =>
    execute({ name: 'token.issue', userName: name, expiresInDays: opts.expiresInDays, label: opts.label }),
  );
token
  .command('revoke <id>')
  .description('revoke a token by its id')
  .action((id: string) => execute({ name: 'token.revoke', tokenId: id }));

const audit = program.command('audit').description('the tamper-evident audit log');
audit
  .command('verify')
  .description(
    'check the whole hash chain and every signed checkpoint; prints "ok N events" or the first bad event',
  )
  .option(
    '--key <file>',
    'also trust this key (PEM) for checkpoints; repeatable',
    (v: string, p: string[] = []) => [...p, v],
  )
  .option(
    '--checkpoints <file|url>',
    "also check checkpoints kept outside the database: a file (JSON lines, e.g. another node's audit-checkpoints.jsonl or saved answers of GET /api/v1/audit/checkpoints/latest) or that URL; repeatable",
    (v: string, p: string[] = []) => [...p, v],
  )
  .addHelpText(
    'after',
    "\nThe node's own VYTIS_DATA_DIR/audit-checkpoints.jsonl is always checked; a chain whose newest checkpoint is older than twice VYTIS_CHECKPOINT_SECONDS is flagged, and so is a longer gap between the checkpoints in that file unless the node recorded a clean stop there.",
  )
  .action(async (opts: { key?: string[]; checkpoints?: string[] }) => {
    const { isUrl } = await import('../audit/audit.checkpoint-file.ts');
    await execute({
      name: 'audit.verify',
      keyFiles: opts.key?.map((file) => path.resolve(file)),
      checkpointSources: opts.checkpoints?.map((source) => (isUrl(source) ? source : path.resolve(source))),
    });
  });
audit
  .command('checkpoint')
  .description('sign a checkpoint of the chain now')
  .action(() => execute({ name: 'audit.checkpoint' }));

program
  .command('import <file>')
  .description(
    'bulk-import indicators into a case: CSV (type,value[,comment]), NDJSON, or one value per line with --type; idempotent; prints "imported N, duplicates D, rejected R". Or a STIX 2.1 bundle (.json, .stix, or --format stix), or MISP event JSON (.json as MISP writes it, or --format misp)',
  )
  .requiredOption('--case <id>', 'the case to import into')
  .option('--as <name>', 'act as this user (default: the local operator, who sees every case)')
  .option(
    '--partial',
    'keep the good lines (objects) of a file with bad ones (default: a bad one rejects the whole file)',
  )
  .option('--type <type>', 'the MISP type of every value of a plain list, e.g. ip-dst')
  .addOption(
    new Option('--tlp <label>', "the label of lines (objects) that carry none (default: the case's)").choices(
      TLPS,
    ),
  )
  .addOption(
    new Option(
      '--format <format>',
      'the file format (default: from its extension; a .json file starting {"Event" or {"response" is MISP event JSON, one holding another JSON object a STIX bundle; lines with --type)',
    ).choices([...BULK_FORMATS, 'stix', 'misp']),
  )
  .addHelpText(
    'after',
    '\nA bar shows progress on a terminal. A rejected file is listed line by line ("line 12: …"), exit 1.' +
      '\nA STIX bundle prints "objects N: observables imported I, duplicates D, rejected R; intelligence objects added A, updated U, unchanged C, older O"; ' +
      'refused objects are listed by index and id ("object 3: indicator--…: why"), exit 1 unless --partial.',
  )
  .action(async (file: string, opts: ImportFlags) => {
    const { importCommand } = await import('./import.ts');
    finish(await importCommand(file, opts));
  });

const feed = program.command('feed').description('MISP feeds pulled into cases');
feed
  .command('add <name> <url>')
  .description(
    'pull the MISP feed at URL (its directory: manifest.json is read under it) into a case, on a schedule, as --as USER',
  )
  .option('--case <id>', 'the case to pull into')
  .option('--new-case', 'open a case for the feed (named after it)')
  .addOption(new Option('--tlp <label>', 'the label of the --new-case (default amber)').choices(TLPS))
  .option('--header <header>', 'a header sent with every request, "Name: value" (e.g. "Authorization: …")')
  .option('--every <minutes>', 'how often it is pulled (default 60)', positiveInt)
  .requiredOption('--as <name>', 'the user it pulls as (who must be able to import into the case)')
  .action(
    async (
      name: string,
      url: string,
      opts: { case?: string; newCase?: boolean; tlp?: string; header?: string; every?: number; as: string },
    ) => {
      const { feedCommand } = await import('./feed-command.ts');
      finish(
        await feedCommand(await loadConfigOrExit(), {
          name: 'feed.add',
          feedName: name,
          url,
          caseId: opts.case,
          newCase: opts.newCase,
          tlp: opts.tlp,
          header: opts.header,
          every: opts.every,
          as: opts.as,
        }),
      );
    },
  );
feed
  .command('list')
  .description('the feeds, with their last run')
  .option('--as <name>', 'the feeds this user sees (default: the local operator, who sees all)')
  .action(async (opts: { as?: string }) => {
    const { feedCommand } = await import('./feed-command.ts');
    finish(await feedCommand(await loadConfigOrExit(), { name: 'feed.list', as: opts.as }));
  });
feed
  .command('pull <name>')
  .description('pull a feed now; prints what the run listed, fetched and imported (refused events on stderr)')
  .option(
    '--as <name>',
    "names one of this user's own feeds (default: the local operator, among all feeds; say whose when several share the name); the feed imports as its owner",
  )
  .action(async (name: string, opts: { as?: string }) => {
    const { feedCommand } = await import('./feed-command.ts');
    finish(await feedCommand(await loadConfigOrExit(), { name: 'feed.pull', feedName: name, as: opts.as }));
  });
feed
  .command('remove <name>')
  .description('stop pulling a feed (what it imported stays in the case)')
  .option(
    '--as <name>',
    "names one of this user's own feeds (default: the local operator, among all feeds; say whose when several share the name)",
  )
  .action(async (name: string, opts: { as?: string }) => {
    const { feedCommand } = await import('./feed-command.ts');
    finish(await feedCommand(await loadConfigOrExit(), { name: 'feed.remove', feedName: name, as: opts.as }));
  });

program
  .command('backup <file>')
  .description(
    'write a backup of this node (database, node key, evidence files) to FILE, a .tar.gz; consistent while the node runs',
  )
  .addHelpText(
    'after',
    '\nFILE appears only once the archive is complete. Restore it with `vytis restore FILE` into an empty data directory or database.',
  )
  .action(async (file: string) => {
    const { backupCommand } = await import('./backup-command.ts');
    finish(await backupCommand(file, await loadConfigOrExit()));
  });

program
  .command('restore <file>')
  .description(
    'restore a backup into an empty VYTIS_DATA_DIR (and, with DATABASE_URL, an empty database); checks the archive first, then verifies the audit chain',
  )
  .action(async (file: string) => {
    const { restoreCommand } = await import('./backup-command.ts');
    finish(await restoreCommand(file, await loadConfigOrExit()));
  });

const report = program.command('report').description("a request's reports as files");
report
  .command('pdf <requestId>')
  .description(
    'write the post-action report of a request as a PDF (the draft from the record, or as submitted)',
  )
  .requiredOption('--out <file>', 'the PDF file to write (replaced whole, never half-written)')
  .option('--as <name>', 'as this user sees it (default: the local operator, who sees every case and person)')
  .action(async (requestId: string, opts: { out: string; as?: string }) => {
    const { writeReportPdf } = await import('./report-command.ts');
    const out = path.resolve(opts.out);
    finish(await writeReportPdf(await obtain({ name: 'report.pdf', requestId, as: opts.as }), out));
  });

const pass = program.command('pass').description('responder passes');
pass
  .command('verify <token>')
  .description(
    "verify a responder pass (offline unless --node: no database, no running node; --peer reads this node's database); prints its claims and whether revocation was checked, or why it is not valid",
  )
  .option(
    '--key <file>',
    "trust these keys: a JWKS as GET /api/v1/node/keys serves it, or a PEM key; repeatable (default: this node's own key)",
    (v: string, p: string[] = []) => [...p, v],
  )
  .option(
    '--revoked <file>',
    'a saved revocation list: GET /api/v1/passes/revocations as served (its signature is checked), or {"revoked": ["<pass id>", ...]} or an array of pass ids (unsigned)',
  )
  .option(
    '--node <url>',
    'the issuing node (e.g. https://vytis.example.org): fetch its public signed revocation list, and its keys unless --key is given',
  )
  .option(
    '--peer <party>',
    "a peer's pass, verified with what this node holds of it (no call to the peer): its pinned key and the revocation list its feed carried, as fresh as this node's last successful pull of it",
  )
  .option(
    '--max-age <age>',
    'the oldest signed revocation list accepted, as 90m, 24h or 7d: with --node default 24h (with --peer, the age of the last successful pull); with --revoked checked only when given',
  )
  .option('--json', 'print the result as JSON')
  .option(
    '--at <time>',
    'check validity at this ISO 8601 time instead of now (e.g. the first day of the mission)',
  )
  .addHelpText('after', '\nTOKEN "-" reads the pass from standard input.')
  .action(
    async (
      token: string,
      opts: {
        key?: string[];
        revoked?: string;
        node?: string;
        peer?: string;
        json?: boolean;
        at?: string;
        maxAge?: string;
      },
    ) => {
      const at = opts.at === undefined ? undefined : new Date(opts.at);
      if (at && Number.isNaN(at.getTime())) {
        finish({ exitCode: 1, stdout: '', stderr: `--at must be an ISO 8601 time (got ${opts.at})\n` });
        return;
      }
      const [{ parseMaxAge, passVerifyCommand }, config] = await Promise.all([
        import('../modules/passes/pass.command.ts'),
        import('../config.ts'),
      ]);
      const maxAgeMs = opts.maxAge === undefined ? undefined : parseMaxAge(opts.maxAge);
      if (maxAgeMs === null) {
        finish({
          exitCode: 1,
          stdout: '',
          stderr: `--max-age must be a whole number with a unit s, m, h or d, e.g. 24h or 7d (got ${opts.maxAge})\n`,
        });
        return;
      }
      let peer: import('../modules/passes/pass.command.ts').PeerPassEvidence | undefined;
      if (opts.peer !== undefined) {
        const { loadPeerPassEvidence } = await import('./pass-peer.ts');
        const loaded = await loadPeerPassEvidence(await loadConfigOrExit(), opts.peer);
        if ('failure' in loaded) finish(loaded.failure);
        peer = loaded.evidence;
      }
      const result = await passVerifyCommand({
        token: token === '-' ? await readStdin(false) : token,
        keyFiles: opts.key,
        revokedFile: opts.revoked,
        nodeUrl: opts.node,
        peer,
        maxAgeMs,
        json: opts.json,
        dataDir: () => config.loadConfigOrExit().dataDir,
        ...(at ? { now: at } : {}),
      });
      finish(result);
    },
  );

const { registerPeerCommands } = await import('./peer-command.ts');
registerPeerCommands(program, { finish, loadConfig: loadConfigOrExit });

await program.parseAsync(process.argv);
