// Why a capture could not be analysed. A truncated file is not an error (the summary says `truncated: true`); these are
// the cases where no trustworthy summary exists: the bytes are not a capture format we read, or a record's framing is
// impossible (a length that points outside its block, an undeclared interface), so every later byte is suspect.
export type CaptureErrorKind = "unsupported-format" | "corrupt";

export class CaptureFormatError extends Error {
  override readonly name = "CaptureFormatError";
  constructor(
    readonly kind: CaptureErrorKind,
    message: string,
    /** Byte offset in the stream where the problem was found. */
    readonly offset: number,
  ) {
    super(message);
  }
}
