// `pss`: the data center CLI. Core commands (serve, devices, register, revoke) live in
// server/commands/serve.ts and devices.ts; engineers' commands come from
// server/commands/index.ts. Errors print `pss: CODE: message` and exit 1.
import { Command } from 'commander';
import { PssError } from './errors.ts';
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
    .showHelpAfterError();
  for (const c of [serveCommand(), devicesCommand(), registerCommand(), revokeCommand()]) program.addCommand(c);
  for (const make of extraCommands) program.addCommand(make === verifyIndiciumCommand ? verifyIndiciumCommand({ kmsKeyLookup }) : make());
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    const err = e as Error;
    if (err instanceof PssError) console.error(`pss: ${err.code}: ${err.message}`);
    else console.error(`pss: ${err.message ?? err}`);
    process.exitCode = 1;
  }
}
