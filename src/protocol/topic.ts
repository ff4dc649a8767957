// MQTT topic patterns: where the device id comes from, and where a prediction goes.

/**
 * A matcher for a subscription pattern with MQTT wildcards. The device id is the level
 * the first `+` matches, e.g. `sensors/+/reading` gives "mote-1" for
 * `sensors/mote-1/reading`. Returns null when the topic does not match or the level is empty.
 */
export function deviceMatcher(pattern: string): (topic: string) => string | null {
  // MQTT 5 shared subscription: messages arrive on the topic without `$share/<group>/`.
  const levels = pattern.split('/');
  if (levels[0] === '$share') levels.splice(0, 2);
  const plus = levels.indexOf('+');
  const hash = levels.indexOf('#');
  return (topic) => {
    const parts = topic.split('/');
    if (hash >= 0 ? parts.length < hash : parts.length !== levels.length) return null;
    for (let i = 0; i < levels.length; i++) {
      const l = levels[i];
      if (l === '#') break;
      if (l !== '+' && l !== parts[i]) return null;
    }
    if (plus < 0) return null;
    const device = parts[plus];
    return device ? device : null;
  };
}

/** Several patterns: the first that yields a device id wins. */
export function devicesFromTopics(patterns: readonly string[]): (topic: string) => string | null {
  const matchers = patterns.map(deviceMatcher);
  return (topic) => {
    for (const m of matchers) {
      const d = m(topic);
      if (d !== null) return d;
    }
    return null;
  };
}

/** Fills `{device}` and `{instance}` in a topic template, e.g. `predictions/{device}`. */
export function fillTopic(template: string, vars: { readonly device?: string; readonly instance?: string }): string {
  return template.replace(/\{(device|instance)\}/g, (_, k: 'device' | 'instance') => vars[k] ?? '');
}
