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

/** Topics remembered by devicesFromTopics: a fleet's reading topics, bounded. */
const TOPIC_CACHE_SIZE = 4096;
/**
 * Longer topics are matched but not remembered: they keep the cache's memory bounded, and
 * V8 hashes strings over 16 K characters by length alone, so same-length ones would collide.
 */
const TOPIC_CACHE_MAX_LENGTH = 512;

/**
 * Several patterns: the first that yields a device id wins. The answers for recent topics
 * are remembered (a device sends on the same topic every time, and splitting it per
 * reading is a cost on the hot path); beyond TOPIC_CACHE_SIZE topics the memory starts over.
 */
export function devicesFromTopics(patterns: readonly string[]): (topic: string) => string | null {
  const matchers = patterns.map(deviceMatcher);
  const cache = new Map<string, string | null>();
  return (topic) => {
    const known = topic.length > TOPIC_CACHE_MAX_LENGTH ? undefined : cache.get(topic);
    if (known !== undefined) return known;
    let device: string | null = null;
    for (const m of matchers) {
      device = m(topic);
      if (device !== null) break;
    }
    if (topic.length > TOPIC_CACHE_MAX_LENGTH) return device;
    if (cache.size >= TOPIC_CACHE_SIZE) cache.clear();
    cache.set(topic, device);
    return device;
  };
}

/** Fills `{device}` and `{instance}` in a topic template, e.g. `predictions/{device}`. */
export function fillTopic(template: string, vars: { readonly device?: string; readonly instance?: string }): string {
  return template.replace(/\{(device|instance)\}/g, (_, k: 'device' | 'instance') => vars[k] ?? '');
}

/**
 * fillTopic for a template used once per message: the template is split once, so filling
 * it is a concatenation. `{instance}` is fixed here, `{device}` given per call; the result
 * is exactly fillTopic(template, { device, instance }).
 */
export function topicFiller(template: string, instance: string | undefined): (device: string) => string {
  // Literal text and `{device}` slots, alternating: [lit, null, lit, null, lit, ...].
  const parts: (string | null)[] = [];
  let lit = '';
  let last = 0;
  for (const m of template.matchAll(/\{(device|instance)\}/g)) {
    lit += template.slice(last, m.index);
    last = m.index! + m[0].length;
    if (m[1] === 'instance') lit += instance ?? '';
    else parts.push(lit, null), (lit = '');
  }
  parts.push(lit + template.slice(last));
  if (parts.length === 1) return () => parts[0]!;
  if (parts.length === 3) {
    const [a, , b] = parts as [string, null, string];
    return (device) => a + device + b;
  }
  return (device) => {
    let s = '';
    for (const p of parts) s += p ?? device;
    return s;
  };
}
