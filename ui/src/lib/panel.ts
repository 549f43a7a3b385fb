// What every tab of the matter page is given.
import type { Backend } from "./backend";
import type { MatterDetail } from "./types";

export type PanelProps = {
  backend: Backend;
  detail: MatterDetail;
  /** After a save: the page (and the status) reload. */
  onchanged: () => Promise<void>;
  /** A record's conflict mark was chosen. */
  onconflicts: () => void;
};

/** A panel that writes who did something (an author, a default assignee). */
export type AuthoredPanelProps = PanelProps & { userName: string };
