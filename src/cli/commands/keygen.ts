// `edge-rnn keygen --out DIR`: an ed25519 key pair for signing pushed models.
import type { Command } from 'commander';
import { KeyError, writeKeyPair } from '../../io/keys.js';
import { CliError } from '../errors.js';

export function registerKeygen(program: Command): void {
  program
    .command('keygen')
    .description('create an ed25519 key pair for signing models (private key written with mode 0600)')
    .requiredOption('-o, --out <dir>', 'folder for <name>.key.pem (private) and <name>.pub.pem (public)')
    .option('--name <name>', 'file name stem', 'edge-rnn')
    .option('--force', 'replace existing key files')
    .option('--json', 'machine-readable output')
    .action((opts: { out: string; name: string; force?: boolean; json?: boolean }) => {
      let files;
      try {
        files = writeKeyPair(opts.out, opts.name, opts.force ?? false);
      } catch (e) {
        if (e instanceof KeyError) throw new CliError(e.message);
        throw e;
      }
      if (opts.json) {
        process.stdout.write(JSON.stringify(files) + '\n');
        return;
      }
      process.stdout.write(
        `private key: ${files.privatePath} (keep it off devices; sign with: edge-rnn push --key ${files.privatePath})\n` +
          `public key:  ${files.publicPath} (copy to devices; trust with: edge-rnn run --trust ${files.publicPath})\n` +
          `key id:      ${files.keyId}\n`,
      );
    });
}
