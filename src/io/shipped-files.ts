// Data files the project ships beside its code: the trained model `demo` runs by default
// and the mote data set the simulator replays. In a checkout they are read where they live
// in the repository; a bundle gets copies in a folder beside itself (scripts/bundle.ts
// writes edge-rnn-data/ next to dist/edge-rnn.mjs), so a bundle finds them next to its own
// file, whatever the working folder.
import { fileURLToPath } from 'node:url';

/** Set to true by scripts/bundle.ts (esbuild `define`); undeclared when run from source. */
declare const __EDGE_RNN_BUNDLE__: boolean | undefined;

/** The folder beside a bundle that holds its shipped files. */
export const BUNDLE_DATA_DIR = 'edge-rnn-data';

/** Each shipped file: where it is in the repository, and its name in BUNDLE_DATA_DIR. */
export const SHIPPED_FILES = {
  demoModel: { source: 'models/mote-forecaster.msgpack', name: 'mote-forecaster.msgpack' },
  moteData: { source: 'firmware-sim/data/suthaharan-single-hop.csv', name: 'suthaharan-single-hop.csv' },
  moteDataReadme: { source: 'firmware-sim/data/README.md', name: 'suthaharan-single-hop.README.md' },
} as const;

export type ShippedFile = keyof typeof SHIPPED_FILES;

const bundled = typeof __EDGE_RNN_BUNDLE__ !== 'undefined' && __EDGE_RNN_BUNDLE__;

/** The absolute path of a shipped file: in the repository, or beside the running bundle. */
export function shippedFile(file: ShippedFile): string {
  const f = SHIPPED_FILES[file];
  // This module is src/io/shipped-files.ts in a checkout; inside a bundle, the bundle itself.
  const url = bundled ? new URL(`./${BUNDLE_DATA_DIR}/${f.name}`, import.meta.url) : new URL(`../../${f.source}`, import.meta.url);
  return fileURLToPath(url);
}

/** Appended to a "cannot read" error about a shipped file. */
export function shippedFileHint(flag: string): string {
  return bundled
    ? `(shipped beside the bundle in ${BUNDLE_DATA_DIR}/ by npm run bundle: copy that folder next to it, or pass ${flag} FILE)`
    : `(pass ${flag} FILE)`;
}
