// Argument errors of the `psd` and `pss` command trees (unknown option or command, a missing or
// invalid value): one line naming the problem and the help command of the command it concerns,
// instead of commander's whole help text, and exit code 2, as usual for usage errors.
import type { Command } from 'commander';

/** The exit code of a usage error (commander exits 1 on its own). */
export const EXIT_USAGE = 2;

/** `psd batch start`: the names from the program down to this command. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Sets every command of the tree (call it once the tree is built) to report its argument errors
 * through `report`: commander's message without its `error: ` prefix, and the help command line
 * of the command the error concerns (`psd batch start --help`). The whole help text is printed
 * only where it was asked for (--help, or a command group given no subcommand).
 */
export function reportUsageErrors(cmd: Command, report: (message: string, helpCommand: string) => void): void {
  const help = `${commandPath(cmd)} --help`;
  cmd.showHelpAfterError(false).configureOutput({ outputError: (text) => report(text.replace(/^error: /, '').trimEnd(), help) });
  for (const sub of cmd.commands) reportUsageErrors(sub, report);
}

/** The deepest command the words of a command line name (`batch` of `psd --json batch`). */
export function commandNamed(root: Command, args: string[]): Command {
  let cmd = root;
  for (const word of args) {
    const sub = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (sub) cmd = sub;
  }
  return cmd;
}
