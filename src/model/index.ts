export * from './types.js';
export { ModelFormatError } from './errors.js';
export { decodeModel, encodeModel } from './codec.js';
export { parseModel, modelToWire, FORMAT_MAGIC, FORMAT_VERSION } from './wire.js';
export { tensorF32 } from './tensor.js';
export { initModel, seededRandom, type ModelSpec } from './init.js';
export { planModel, type ModelPlan, type RecurrentPlan, type WindowPlan } from './plan.js';
export { sameInputs } from './same-inputs.js';
