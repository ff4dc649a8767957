// The floor for `npm run bench:memory`: a plain mqtt.js subscriber on the topics `edge-rnn
// run` subscribes to, with the same session settings and QoS, that does nothing with what
// arrives (mqtt.js still decodes each PUBLISH and sends its PUBACK). Plain JavaScript run
// by node itself, so no TypeScript loader sits in its memory.
//
//   node scripts/bench/bare-subscriber.mjs BROKER_URL CLIENT_ID TOPIC...
import mqtt from 'mqtt';

const [url, clientId, ...topics] = process.argv.slice(2);
const client = await mqtt.connectAsync(url, {
  clientId, clean: false, protocolVersion: 5, keepalive: 30, properties: { sessionExpiryInterval: 7 * 24 * 3600 },
});
client.on('message', () => {});
await client.subscribeAsync(topics, { qos: 1 });
process.once('SIGTERM', () => client.end(false, () => process.exit(0)));
console.log('subscribed');
