/**
 * A model file or object that is not a valid model v1. `field` is a path into the model
 * ("layers[1].wHh.shape"), so a user can find what is wrong without reading our code.
 */
export class ModelFormatError extends Error {
  override readonly name = 'ModelFormatError';
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(field ? `${field}: ${reason}` : reason);
  }
}
