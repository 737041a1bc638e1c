// What the config layer reports about a file: an issue at a path (the YAML line is found from
// it), and the texts of a sink whose ${NAME} references are checked against the environment.
export type PathPart = string | number;
export interface Issue {
  readonly path: readonly PathPart[];
  readonly message: string;
  /** Print the offending value before the message. */
  readonly showValue: boolean;
}

/** A notify sink's text that may hold ${NAME} references, and where it is. */
export interface SinkText {
  readonly path: readonly PathPart[];
  readonly text: string;
  readonly isUrl: boolean;
}
