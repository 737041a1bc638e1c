// The messages of the log lines that tell what the monkey did (SPEC §5 lists the fields each
// carries). One place for their texts: the code logs these constants and the tests look for them,
// so a reworded message cannot make a test look for a line that no longer exists.
export const LOG = {
  /** A victim's kill is about to be sent (with tickToKillMs). */
  KILLING: "killing",
  /** The API server accepted a kill. */
  KILL_ACCEPTED: "kill accepted",
  /** The API server refused a kill, or it could not be sent. */
  KILL_FAILED: "kill failed",
  /** The re-check before the kill found the victim gone or excluded. */
  VICTIM_NO_LONGER_ELIGIBLE: "victim no longer eligible",
  /** Dry run: the victim a live round would kill. */
  WOULD_KILL: "would kill (dry run)",
  /** A round's selection: eligible, excluded, victims. */
  VICTIMS_SELECTED: "victims selected",
  /** A round killed nothing, with its reason. */
  ROUND_SKIPPED: "round skipped",
  /** The scheduler woke after its tick; it goes on from now. */
  ROUND_LATE: "round ran late; missed ticks are skipped",
  /** A victim's recovery reached a phase (replaced, ready, recovered, steady). */
  RECOVERY_PHASE: "recovery phase reached",
  /** A victim's recovery ended, with its outcome. */
  RECOVERY_ENDED: "recovery ended",
  /** Stripping a deleted volume's finalizers failed; the finisher retries. */
  STRIP_FAILED: "strip failed; will retry",
  /** A new leader completed a crashed round's strip. */
  INTERRUPTED_STRIP_FINISHED: "finished the strip of an interrupted round",
  /** A crashed round's recovery, counted aborted by a new leader. */
  INTERRUPTED_RECOVERY_ABORTED: "recovery of an interrupted round counted aborted",
  /** This replica acquired the Lease. */
  BECAME_LEADER: "became leader",
  /** This replica stopped leading, with the reason. */
  LOST_LEADERSHIP: "lost leadership",
  /** The Lease was handed over at shutdown. */
  LEASE_RELEASED: "lease released",
  /** A config (the first, or a reload) is in force. */
  CONFIG_LOADED: "config loaded",
  /** A reloaded config was invalid. */
  CONFIG_RELOAD_REJECTED: "config reload rejected; the last good config stays in force",
  /** A sink refused a notification or could not be reached. */
  NOTIFICATION_FAILED: "notification failed",
  /** A sink's delivery gave up. */
  NOTIFICATION_DELIVERY_STOPPED: "notification delivery stopped",
  /** `run` finished shutting down. */
  STOPPED: "stopped",
} as const;
