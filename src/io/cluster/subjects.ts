// Names in the cluster: MQTT topics <-> NATS subjects, the partitioned reading subjects,
// and the streams, buckets and consumers every instance and the setup agree on.
//
// The NATS MQTT listener maps topic levels to subject tokens: `sensors/<dev>/reading` is
// the subject `sensors.<dev>.reading` (a device id must not contain '.', '*', '>' or ' ').

export const READINGS_STREAM = 'EDGE_READINGS';
export const PREDICTIONS_STREAM = 'EDGE_PREDICTIONS';
export const MODELS_STREAM = 'EDGE_MODELS';
export const MEMBERS_BUCKET = 'edge-members';
export const LEASES_BUCKET = 'edge-leases';
export const STATES_BUCKET = 'edge-states';
/** Key in the states bucket holding the partition count the cluster was set up with. */
export const PARTITIONS_KEY = 'partitions';

/** Readings as the server mapping writes them: part.<p>.sensors.<device>.reading. */
export const READINGS_SUBJECTS = 'part.*.sensors.*.reading';
export const PREDICTIONS_SUBJECTS = 'predictions.>';
export const MODELS_SUBJECTS = 'models.>';

export const partitionFilter = (p: number): string => `part.${p}.sensors.*.reading`;
export const consumerName = (p: number): string => `part-${p}`;
export const checkpointKey = (p: number): string => `part-${p}`;

/** MQTT topic -> NATS subject (levels become tokens). */
export function subjectOf(topic: string): string {
  return topic.split('/').join('.');
}

/** NATS subject -> MQTT topic. */
export function topicOf(subject: string): string {
  return subject.split('.').join('/');
}

/** `part.<p>.<rest>` -> { partition, topic of <rest> }, or null for anything else. */
export function parsePartitioned(subject: string): { partition: number; topic: string } | null {
  if (!subject.startsWith('part.')) return null;
  const dot = subject.indexOf('.', 5);
  if (dot < 0) return null;
  const partition = Number(subject.slice(5, dot));
  if (!Number.isSafeInteger(partition) || partition < 0) return null;
  return { partition, topic: topicOf(subject.slice(dot + 1)) };
}
