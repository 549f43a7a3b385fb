// The second step of a sign-in, shared by the desktop's and the browser's sign-in forms:
// after the service answers `mfa_required`, the one-time-code field shows and takes focus;
// a wrong code empties it; a missing one is asked for before anything is sent.
import { tick } from "svelte";
import type { BackendError } from "./errors";

export class SecondStep {
  /** The service asked for a second step: the one-time-code field shows. */
  needed = $state(false);
  code = $state("");
  input = $state<HTMLInputElement | null>(null);

  /** Before sending: the words for a needed code left empty (the field takes focus), else null. */
  missing(): string | null {
    if (!this.needed || this.code.trim()) return null;
    this.input?.focus();
    return "Enter the code from your authenticator app, or a recovery code.";
  }

  /** The code to send with the sign-in: only once it was asked for. */
  get sent(): string | undefined {
    return this.needed ? this.code.trim() : undefined;
  }

  /** After a sign-in failed: true when the failure was the service asking for the second
   * step (not an error: the field shows and takes focus). A wrong code empties the field. */
  async answered(err: BackendError): Promise<boolean> {
    if (err.code === "mfa_required") {
      this.needed = true;
      await tick();
      this.input?.focus();
      return true;
    }
    if (err.code === "wrong_code") {
      this.code = "";
      await tick();
      this.input?.focus();
    }
    return false;
  }
}
