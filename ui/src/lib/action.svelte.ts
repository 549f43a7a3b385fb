// One backend action a form or dialog runs: while it runs `busy` is true (the save button
// is disabled), and if it fails `error` holds what went wrong in words a person can act on.
// Components check their own input first and set `error` themselves for that.
import { asBackendError, humanMessage, type BackendError, type ErrorCode } from "./errors";
import { explainInvalid, invalidField } from "./records";

export class Action {
  busy = $state(false);
  error = $state<string | null>(null);
  /** With `invalid`: the field (its wire name) the error is about, for aria-invalid. */
  field = $state<string | null>(null);
  /** The backend's code of the last failure (null for a problem found before sending). */
  code = $state<ErrorCode | null>(null);

  /** `invalid`: a refused value (invalid_input) is explained field by field, and its field kept. */
  constructor(private readonly options: { invalid?: boolean } = {}) {}

  /** Runs `op`; answers whether it succeeded. A failure sets `error` (and `field`). */
  async run(op: () => Promise<unknown>): Promise<boolean> {
    this.busy = true;
    this.error = null;
    this.field = null;
    this.code = null;
    try {
      await op();
      return true;
    } catch (err) {
      this.fail(err);
      return false;
    } finally {
      this.busy = false;
    }
  }

  /** Shows any thrown value as words (for a call that does not set `busy`). */
  fail(err: unknown) {
    const b = asBackendError(err);
    this.code = b.code;
    this.error = this.explain(b);
    this.field = this.options.invalid && b.code === "invalid_input" ? invalidField(b.detail) : null;
  }

  /** Forgets the last error (a form opens afresh). */
  reset() {
    this.error = null;
    this.field = null;
    this.code = null;
  }

  /** Shows a problem found before anything is sent. */
  refuse(message: string, field: string | null = null) {
    this.code = null;
    this.error = message;
    this.field = field;
  }

  private explain(b: BackendError): string {
    return this.options.invalid && b.code === "invalid_input" ? explainInvalid(b.detail) : humanMessage(b.code, b.detail);
  }
}
