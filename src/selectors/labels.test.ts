import { describe, expect, it } from "vitest";
import {
  matchesFields,
  matchesSelector,
  parseFieldSelector,
  parseLabelSelector,
  podWatchFieldSelector,
  SELECTABLE_FIELDS,
  unselectableFields,
} from "./labels.js";

const WEB = {
  app: "web",
  tier: "frontend",
  "app.kubernetes.io/name": "shop-web",
  version: "v1.2.3",
};
const DB = { app: "db", tier: "backend", "app.kubernetes.io/name": "shop-db" };
const BARE = {};
const EMPTY_APP = { app: "" };

describe("parseLabelSelector + matchesSelector", () => {
  // [selector, matches WEB, matches DB, matches BARE (no labels), matches {app: ""}]
  const cases: [string, [boolean, boolean, boolean, boolean]][] = [
    ["", [true, true, true, true]],
    ["   ", [true, true, true, true]],
    ["app=web", [true, false, false, false]],
    ["app==web", [true, false, false, false]],
    ["app = web", [true, false, false, false]],
    ["app!=web", [false, true, true, true]],
    ["app=", [false, false, false, true]],
    ["app!=", [true, true, true, false]],
    ["app in (web,db)", [true, true, false, false]],
    ["app in (web, cache )", [true, false, false, false]],
    ["app in (web,)", [true, false, false, true]],
    ["app notin (web)", [false, true, true, true]],
    ["app notin (web,db)", [false, false, true, true]],
    ["app", [true, true, false, true]],
    ["!app", [false, false, true, false]],
    ["! app", [false, false, true, false]],
    ["version", [true, false, false, false]],
    ["!version", [false, true, true, true]],
    ["app=web,tier=frontend", [true, false, false, false]],
    ["app=web,tier=backend", [false, false, false, false]],
    ["app in (web,db), tier notin (backend)", [true, false, false, false]],
    ["app,!version", [false, true, false, true]],
    ["version=v1.2.3", [true, false, false, false]],
    ["version in (v1.2.3,v2_0)", [true, false, false, false]],
    ["app.kubernetes.io/name=shop-web", [true, false, false, false]],
    ["app.kubernetes.io/name in (shop-web,shop-db)", [true, true, false, false]],
    ["app.kubernetes.io/name", [true, true, false, false]],
    ["!app.kubernetes.io/name", [false, false, true, true]],
    ["app.kubernetes.io/name!=shop-db,app", [true, false, false, true]],
  ];
  it.each(cases)("%j", (text, expected) => {
    const sel = parseLabelSelector(text);
    expect([WEB, DB, BARE, EMPTY_APP].map((labels) => matchesSelector(sel, labels))).toEqual(
      expected,
    );
  });

  it("parses each operator into the requirement it means", () => {
    expect(parseLabelSelector("a=1,b==2,c!=3,d in (x,y),e notin (z),f,!g")).toEqual([
      { key: "a", op: "in", values: ["1"] },
      { key: "b", op: "in", values: ["2"] },
      { key: "c", op: "notin", values: ["3"] },
      { key: "d", op: "in", values: ["x", "y"] },
      { key: "e", op: "notin", values: ["z"] },
      { key: "f", op: "exists" },
      { key: "g", op: "!exists" },
    ]);
  });

  it("treats undefined labels as an object with no labels", () => {
    expect(matchesSelector(parseLabelSelector("!app,tier!=db"), undefined)).toBe(true);
    expect(matchesSelector(parseLabelSelector("app"), undefined)).toBe(false);
  });

  it("accepts the longest legal keys and values", () => {
    const prefix = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`;
    expect(prefix).toHaveLength(253);
    const key = `${prefix}/${"n".repeat(63)}`;
    expect(parseLabelSelector(`${key}=${"v".repeat(63)}`)).toEqual([
      { key, op: "in", values: ["v".repeat(63)] },
    ]);
  });

  const invalid = [
    "app=web,",
    ",app=web",
    "app=web,,tier=db",
    "app in (web",
    "app in web",
    "app in ()",
    "app notin ( )",
    "app in (web)(db)",
    "app in (a b)",
    "app IN (web)",
    "app=web=db",
    "app==web==db",
    "app=we b",
    "app=-web",
    "app=web-",
    "app=web$",
    "-app=web",
    "app-=web",
    "=web",
    "!=web",
    "!",
    "!app=web",
    "ap p",
    "Example.com/app=web",
    "example.com/=web",
    "/app=web",
    "a/b/c=web",
    "example..com/app=web",
    `${"k".repeat(64)}=web`,
    `${"p".repeat(254)}/app=web`,
    `app=${"v".repeat(64)}`,
    `app in (web,${"v".repeat(64)})`,
  ];
  it.each(invalid)("rejects %j", (text) => {
    expect(() => parseLabelSelector(text)).toThrow();
  });
});

describe("parseFieldSelector + matchesFields", () => {
  const node1 = { "spec.nodeName": "node-1", "status.phase": "Running" };
  const node2 = { "spec.nodeName": "node-2", "status.phase": "Pending" };
  const unscheduled = { "status.phase": "Pending", "spec.nodeName": undefined };
  // [selector, matches node1, matches node2, matches unscheduled]
  const cases: [string, boolean, boolean, boolean][] = [
    ["", true, true, true],
    ["spec.nodeName=node-1", true, false, false],
    ["spec.nodeName==node-1", true, false, false],
    [" spec.nodeName = node-1 ", true, false, false],
    ["spec.nodeName!=node-1", false, true, true],
    ["spec.nodeName=", false, false, true],
    ["spec.nodeName!=", true, true, false],
    ["spec.nodeName=node-1,status.phase=Running", true, false, false],
    ["spec.nodeName!=node-1,status.phase=Pending", false, true, true],
    ["metadata.name=x", false, false, false],
  ];
  it.each(cases)("%j", (text, one, two, none) => {
    const reqs = parseFieldSelector(text);
    expect([node1, node2, unscheduled].map((f) => matchesFields(reqs, f))).toEqual([
      one,
      two,
      none,
    ]);
  });

  it("parses each operator", () => {
    expect(parseFieldSelector("a.b=1,c==2,d!=3")).toEqual([
      { path: "a.b", equal: true, value: "1" },
      { path: "c", equal: true, value: "2" },
      { path: "d", equal: false, value: "3" },
    ]);
  });

  const invalid = [
    "spec.nodeName",
    "=node-1",
    "!=node-1",
    "spec.nodeName<node-1",
    "spec.nodeName=node-1,",
    "spec.nodeName=node-1,,status.phase=Running",
    "spec.node Name=node-1",
    "1spec=node-1",
    "spec.nodeName in (node-1)",
  ];
  it.each(invalid)("rejects %j", (text) => {
    expect(() => parseFieldSelector(text)).toThrow();
  });
});

describe("matchesFields reads only fields the candidate carries", () => {
  const fields = { "spec.nodeName": "node-1", "status.nominatedNodeName": undefined };
  it.each<[string, boolean]>([
    ["spec.nodeName=node-1", true],
    ["status.nominatedNodeName=", true], // carried but unset: ""
    ["status.nominatedNodeName!=node-2", true],
    // Not carried: no match whatever the operator (an unknown field must not read as "").
    ["status.hostIP=", false],
    ["status.hostIP!=10.0.0.1", false],
    // Inherited from Object.prototype: no match either.
    ["constructor!=x", false],
    ["toString!=x", false],
    ["hasOwnProperty=", false],
    ["spec.nodeName=node-1,constructor!=x", false],
  ])("%j → %s", (text, expected) => {
    expect(matchesFields(parseFieldSelector(text), fields)).toBe(expected);
  });
});

describe("SELECTABLE_FIELDS and unselectableFields (SPEC §2)", () => {
  it("lists the fields the API server supports per kind", () => {
    expect([...SELECTABLE_FIELDS.Pod].sort()).toEqual([
      "metadata.name",
      "metadata.namespace",
      "spec.nodeName",
      "spec.restartPolicy",
      "spec.schedulerName",
      "spec.serviceAccountName",
      "status.nominatedNodeName",
      "status.phase",
      "status.podIP",
    ]);
    expect(SELECTABLE_FIELDS.PersistentVolumeClaim).toEqual([
      "metadata.name",
      "metadata.namespace",
    ]);
    expect(SELECTABLE_FIELDS.PersistentVolume).toEqual(["metadata.name", "metadata.namespace"]);
    expect(Object.isFrozen(SELECTABLE_FIELDS.Pod)).toBe(true);
  });

  it.each<[Parameters<typeof unselectableFields>[0], string, string[]]>([
    ["Pod", "", []],
    ["Pod", "spec.nodeName=a,status.phase!=Failed,metadata.namespace=x", []],
    [
      "Pod",
      "status.hostIP=1,spec.nodeName=a,status.hostIP!=2,constructor!=x",
      ["status.hostIP", "constructor"],
    ],
    ["PersistentVolumeClaim", "metadata.name=data-0", []],
    ["PersistentVolumeClaim", "status.phase=Bound", ["status.phase"]],
    ["PersistentVolume", "spec.storageClassName=ssd", ["spec.storageClassName"]],
    ["PersistentVolume", "spec.nodeName=a", ["spec.nodeName"]],
  ])("%s %j → %j", (kind, text, bad) => {
    expect(unselectableFields(kind, text)).toEqual(bad);
  });
});

describe("podWatchFieldSelector", () => {
  it.each<[string | undefined, string | undefined]>([
    [undefined, undefined],
    ["", undefined],
    // Fields a replacement pod does not share stay client-side only: the watch must show it.
    ["spec.nodeName=node-1,status.phase=Running,metadata.name=web-0,status.podIP=1", undefined],
    [
      "spec.serviceAccountName = web , spec.nodeName=node-1, spec.schedulerName!=custom",
      "spec.serviceAccountName=web,spec.schedulerName!=custom",
    ],
    [
      "spec.restartPolicy==Always,metadata.namespace=shop",
      "spec.restartPolicy=Always,metadata.namespace=shop",
    ],
    // Values are escaped as the API server reads them.
    ["spec.serviceAccountName=a=b", "spec.serviceAccountName=a\\=b"],
    ["spec.serviceAccountName=a\\b", "spec.serviceAccountName=a\\\\b"],
  ])("%j → %j", (text, expected) => {
    expect(podWatchFieldSelector(text)).toBe(expected);
  });
});
