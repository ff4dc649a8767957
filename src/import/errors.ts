/**
 * An ONNX graph `edge-rnn import` cannot convert exactly. `where` names the node, and the
 * attribute or input, at fault (`node "/rnn/LSTM" (LSTM), attribute direction`), so the
 * user knows what to change in the export. Nothing is written when this is thrown.
 */
export class OnnxImportError extends Error {
  override readonly name = 'OnnxImportError';
  constructor(
    readonly where: string,
    readonly reason: string,
  ) {
    super(where ? `${where}: ${reason}` : reason);
  }
}
