export { createSession, type Session, type StreamState } from './session.js';
