// `pss`: the data center CLI. Core commands (serve, devices, register, revoke) live in
// server/commands/serve.ts and devices.ts; engineers' commands come from
// server/commands/index.ts. Errors print `pss: CODE: message` and exit 1; argument errors
// (unknown option or command, missing or invalid value) exit 2 (kit/usage.ts).
import { Command, CommanderError } from 'commander';
import { PssError } from '../protocol/pss-errors.ts';
import { reportUsageErrors, commandNamed, commandPath, EXIT_USAGE } from '../kit/usage.ts';
import { DEFAULT_DATA_DIR } from './datacenter.ts';
import { kmsKeyLookup } from './kms-lookup.ts';
import { serveCommand } from './commands/serve.ts';
import { devicesCommand, registerCommand, revokeCommand } from './commands/devices.ts';
import { extraCommands } from './commands/index.ts';
import { verifyIndiciumCommand } from './commands/verify-indicium.ts';

export function buildProgram(): Command {
  const program = new Command('pss')
    .description('Data center of the PSD lab: KMS (devices, keys, certificates, funds resets) and PSS (statistics service)')
    // no default here: a default on the program would override a subcommand's own --data
    .option('--data <dir>', `data directory (database and KMS keys; default ${DEFAULT_DATA_DIR}, or PSS_DATA)`)
    .option('--db <url>', "the database: postgres://user@host:port/name (PostgreSQL; {data} in the name: one database per data folder), or 'sqlite' (default: PSS_DB, else SQLite in the data directory)");
  // every command opens its store through server/db.ts openStore, which reads PSS_DB
  program.hook('preAction', (cmd) => {
    const db = (cmd.opts() as { db?: string }).db;
    if (db !== undefined) process.env.PSS_DB = db;
  });
  for (const c of [serveCommand(), devicesCommand(), registerCommand(), revokeCommand()]) program.addCommand(c);
  for (const make of extraCommands) program.addCommand(make === verifyIndiciumCommand ? verifyIndiciumCommand({ kmsKeyLookup }) : make());
  return program;
}

/** Argument errors throw instead of exiting, in every subcommand too, so that main reports them. */
function throwOnErrors(c: Command): void {
  c.exitOverride();
  for (const sub of c.commands) throwOnErrors(sub);
}

export async function main(argv: string[]): Promise<void> {
  // --json anywhere: errors are JSON on stdout as well (as psd does), argument errors too
  const wantsJson = argv.includes('--json');
  const program = buildProgram();
  throwOnErrors(program);
  // an argument error: one line and the help command of its command, exit 2
  let reported = false;
  reportUsageErrors(program, (message, helpCommand) => {
    reported = true;
    console.error(`pss: BAD_ARGUMENT: ${message} (run \`${helpCommand}\`)`);
    if (wantsJson) console.log(JSON.stringify({ error: { code: 'BAD_ARGUMENT', message, hint: `run \`${helpCommand}\`` } }));
  });
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version end here too, with their own exit code
      if (e.exitCode === 0) return;
      // reported above; a command group without its subcommand printed its help (on stderr)
      if (!reported && wantsJson) {
        const group = commandPath(commandNamed(program, argv.slice(2)));
        console.log(JSON.stringify({ error: { code: 'BAD_ARGUMENT', message: `${group} needs a subcommand`, hint: `run \`${group} --help\`` } }));
      }
      process.exitCode = EXIT_USAGE;
      return;
    }
    const err = e as Error;
    if (err instanceof PssError) console.error(`pss: ${err.code}: ${err.message}`);
    else console.error(`pss: ${err.message ?? err}`);
    if (wantsJson) console.log(JSON.stringify({ error: { code: err instanceof PssError ? err.code : 'INTERNAL', message: err.message ?? String(err) } }));
    process.exitCode = 1;
  }
}
