// `npm run demo` prints each command it runs for the reader to try: every printed line must
// run as shown when pasted into a shell (the same words reach the CLI).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { steps, shownCommand, type DemoContext } from '../tools/demo.ts';
import { commandLine } from '../kit/output.ts';

/** The words a POSIX shell makes of a line (sh itself splits and unquotes it). */
function shellWords(line: string): string[] {
  const r = spawnSync('sh', ['-c', `for w in ${line}; do printf '%s\\0' "$w"; done`], { encoding: 'utf8' });
  expect(r.status, r.stderr).to.equal(0);
  return r.stdout.split('\0').slice(0, -1);
}

describe('npm run demo: the commands it prints', () => {
  it('every command of every step, as printed, gives the shell the very words the demo ran', async () => {
    const ran: string[][] = [];
    const ctx: DemoContext = {
      board: 'pico',
      port: '/tmp/psd-demo-x/ttyPSD',
      pss: '127.0.0.1:7707',
      // the one answer a step reads: status --json, for the device number
      psd: async (args) => (ran.push(['psd', ...args]), args.includes('--json') ? '{"device":1001}' : ''),
      pss_: async (args) => (ran.push(['pss', ...args]), '')
    };
    for (const step of steps) await step.run(ctx);
    expect(ran.some((words) => words.includes('Mail house Demo')), 'the account name has spaces').to.equal(true);
    for (const [name, ...args] of ran) {
      const line = shownCommand(name, args);
      expect(line.startsWith('$ ')).to.equal(true);
      expect(shellWords(line.slice(2)), line).to.deep.equal([name, ...args]);
    }
  });

  it('commandLine quotes only what the shell would split or expand', () => {
    expect(commandLine(['pss', 'deposit', '--account', '1', '--reference', 'demo transfer'])).to.equal("pss deposit --account 1 --reference 'demo transfer'");
    expect(commandLine(['psd', '--port', 'tcp://127.0.0.1:7000', 'status'])).to.equal('psd --port tcp://127.0.0.1:7000 status');
    const awkward = ['it\'s', '$HOME', '*', '', 'a;b', 'tab\there'];
    expect(shellWords(commandLine(awkward))).to.deep.equal(awkward);
  });
});
