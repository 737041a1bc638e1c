// The kinds of object a target may name: a leaf shared by the config, the selectors and the
// journal, so none of them imports another for it.
export const TARGET_KINDS = ["Pod", "PersistentVolumeClaim", "PersistentVolume"] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];
