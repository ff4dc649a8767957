// Commander options from a settings table (src/io/settings.ts), so a command's --help,
// env names and config-file keys come from one place; and back from commander's parsed
// options to flags keyed by setting key.
import type { Command } from 'commander';
import { envName, flagName, type SettingSpec } from '../io/settings.js';

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const flagOf = (s: SettingSpec) => s.flag ?? flagName(s.key);

export function addSettingOptions(cmd: Command, specs: readonly SettingSpec[], short: Readonly<Record<string, string>> = {}): void {
  for (const s of specs) {
    const dflt = s.default !== undefined ? `; default ${s.default}` : '';
    const help = `${s.help} (env ${envName(s.key)}${dflt})`;
    const name = `${short[s.key] ? `-${short[s.key]}, ` : ''}--${flagOf(s)}`;
    if (s.kind === 'bool') cmd.option(name, help);
    // A list flag may be repeated: --status-topics a --status-topics b.
    else if (s.kind === 'list') cmd.option(`${name} <${s.placeholder ?? 'list'}>`, help, (v: string, prev: string | undefined) => (prev === undefined ? v : `${prev},${v}`));
    else cmd.option(`${name} ${s.placeholder ?? (s.kind === 'duration' ? '<duration>' : '<value>')}`, help);
  }
}

/** Commander's parsed options -> flags keyed by setting key (for resolveSettings). */
export function settingFlags(opts: Readonly<Record<string, unknown>>, specs: readonly SettingSpec[]): Record<string, unknown> {
  const flags: Record<string, unknown> = {};
  for (const s of specs) {
    const v = opts[camel(flagOf(s))];
    if (v !== undefined) flags[s.key] = v;
  }
  return flags;
}
