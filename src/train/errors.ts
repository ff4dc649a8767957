/** Data that cannot be trained on (missing values, constant column, too few rows…); the message says why. */
export class TrainDataError extends Error {
  override readonly name = 'TrainDataError';
}
