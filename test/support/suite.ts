// The setup every e2e file shares: a client of the local cluster, the audit log, a namespace for
// the workloads and one for the monkey with its ServiceAccount identity, cleanups run after each
// test, and the monkey's commands run as that identity (`run` stopped after the test, `once`
// with its JSON result parsed).
import { afterAll, afterEach, beforeAll, inject } from "vitest";
import type { Kube } from "./kube.js";
import { connect, createNamespace, deleteNamespace } from "./kube.js";
import type { Identity, Ran, Running } from "./monkey.js";
import { asIdentity, deleteIdentityBindings, monkeyIdentity, runOnce, startRun } from "./monkey.js";
import type { OnceResult } from "../../src/commands/once-result.js";

export interface SuiteOptions {
  /** A namespace for the workloads, `ns` (default true). */
  readonly workloads?: boolean;
  /** The monkey's own namespace, `selfNs`, and its identity there, `id` (default true). */
  readonly monkey?: boolean;
}

export interface Suite {
  readonly kube: Kube;
  readonly auditLog: string;
  /** The workloads' namespace (unless `workloads: false`). */
  readonly ns: string;
  /** The monkey's own namespace (unless `monkey: false`). */
  readonly selfNs: string;
  /** The monkey's identity in selfNs (unless `monkey: false`). */
  readonly id: Identity;
  /** Runs after the current test (last added, first run). */
  onCleanup(fn: () => Promise<void> | void): void;
  /** `chaos-monkey run` as `as` (default: id), stopped with SIGTERM after the test. */
  run(config: string, as?: Identity): Promise<Running & { port: number }>;
  /** `chaos-monkey once --config CONFIG ...EXTRA --output json` as id, its result parsed. */
  once(config: string, ...extra: string[]): Promise<Ran & { readonly rounds: OnceResult }>;
}

/** Registers the hooks; the returned object's fields are set once beforeAll has run. */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function e2eSuite(prefix: string, opts: SuiteOptions = {}): Suite {
  const cleanups: (() => Promise<void> | void)[] = [];
  const s: Mutable<Suite> = {
    onCleanup: (fn: () => Promise<void> | void) => void cleanups.unshift(fn),
    run: async (config: string, as?: Identity) => {
      const m = await startRun(config, as ?? s.id, s.selfNs);
      s.onCleanup(async () => {
        if (m.proc.exitCode === null && m.proc.signalCode === null) {
          m.proc.kill("SIGTERM");
          await m.exited;
        }
      });
      return m;
    },
    once: (config: string, ...extra: string[]) =>
      runOnce(["--config", config, ...asIdentity(s.id, s.selfNs), ...extra]),
  } as Mutable<Suite>;
  beforeAll(async () => {
    s.kube = connect(inject("kubeconfig"));
    s.auditLog = inject("auditLog");
    if (opts.workloads !== false) s.ns = await createNamespace(s.kube, prefix);
    if (opts.monkey === false) return;
    s.selfNs = await createNamespace(s.kube, `${prefix}-self`);
    s.id = await monkeyIdentity(s.kube, s.selfNs);
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  afterAll(async () => {
    if (s.ns) await deleteNamespace(s.kube, s.ns);
    if (!s.selfNs) return;
    await deleteNamespace(s.kube, s.selfNs);
    await deleteIdentityBindings(s.kube, s.selfNs);
  });
  return s;
}
