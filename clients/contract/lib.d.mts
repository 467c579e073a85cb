export interface FrameResult {
  /** The frame matches the schema its direction and `type` select. */
  readonly ok: boolean;
  /** The frame's `type`, or null when it has none. */
  readonly type: string | null;
  /** Why not, one line each ("/data/quantity must match pattern ..."). */
  readonly errors: readonly string[];
}

export interface Validators {
  validateServerFrame(frame: unknown): FrameResult;
  validateClientFrame(frame: unknown): FrameResult;
  validateAgainst(schemaName: string, frame: unknown): FrameResult;
}

export const DEFAULT_DOCUMENT: string;
export function loadDocument(file?: string): unknown;
export function createValidators(doc?: unknown): Validators;
/** An edge → client frame (object or JSON text) against docs/asyncapi.yaml. */
export function validateServerFrame(frame: unknown): FrameResult;
/** A client → edge frame (object or JSON text) against docs/asyncapi.yaml. */
export function validateClientFrame(frame: unknown): FrameResult;
export function checkDocument(doc?: unknown): {
  readonly ok: boolean;
  readonly errors: readonly string[];
  readonly stats: { readonly messages: number; readonly schemas: number; readonly examples: number };
};
