// The webhook body against its committed contract, config/notify/chaos-event.schema.json.
import { readFileSync } from "node:fs";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { NOTIFY_EVENTS } from "../config/types.js";
import type { ChaosNotification } from "./event.js";
import { dryRun, SAMPLES } from "../../test/fixtures/notify.js";
import { webhookBody } from "./webhook.js";

const SCHEMA = JSON.parse(
  readFileSync(new URL("../../config/notify/chaos-event.schema.json", import.meta.url), "utf8"),
) as Record<string, unknown>;

// strict, as for config/schema.json: it must compile for the strictest consumer too. ajv ships
// no formats; date-time is checked as RFC 3339 here.
const ajv = new Ajv({ allErrors: true, strict: true });
ajv.addFormat("date-time", {
  type: "string",
  validate: (s: string) =>
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(s) &&
    !Number.isNaN(Date.parse(s)),
});
const validate = ajv.compile(SCHEMA);

function check(body: unknown): string {
  return validate(body) ? "" : ajv.errorsText(validate.errors);
}

describe("the webhook body", () => {
  it("has a schema that is valid draft-07 with an id, a title and every event", () => {
    expect(ajv.validateSchema(SCHEMA)).toBe(true);
    expect(SCHEMA).toMatchObject({
      $schema: "http://json-schema.org/draft-07/schema#",
      $id: expect.stringMatching(/^https:\/\//) as unknown,
      title: expect.any(String) as unknown,
    });
    const event = (SCHEMA.properties as Record<string, { enum?: unknown }>).event;
    expect(event?.enum).toEqual([...NOTIFY_EVENTS]);
  });

  describe.each(NOTIFY_EVENTS.flatMap((e) => [SAMPLES[e], dryRun(SAMPLES[e])]))(
    "$event (dryRun $dryRun)",
    (n) => {
      it("validates against config/notify/chaos-event.schema.json", () => {
        expect(check(webhookBody(n))).toBe("");
        // What a receiver sees is the JSON text: it must round-trip too.
        expect(check(JSON.parse(JSON.stringify(webhookBody(n))))).toBe("");
      });
    },
  );

  it("carries apiVersion, kind, a stable id, the event, its figures and the dry-run flag", () => {
    expect(webhookBody(SAMPLES.recovered)).toEqual({
      apiVersion: "chaos-monkey.io/v1",
      kind: "ChaosEvent",
      id: "web-20261202T010203Z/recovered/Pod/shop/web-7d9c5b-x2x4q",
      event: "recovered",
      target: "web",
      round: "web-20261202T010203Z",
      seed: "5eed",
      dryRun: false,
      time: "2026-12-02T01:02:17.523Z",
      summary: "web: Pod shop/web-7d9c5b-x2x4q recovered in 14.4s",
      victims: [
        {
          kind: "Pod",
          namespace: "shop",
          name: "web-7d9c5b-x2x4q",
          phases: { replaced: 0.4, ready: 6.1, recovered: 6.3, steady: 14.4 },
          disruptionSeconds: 4,
          objectiveSeconds: 60,
          outcome: "recovered",
        },
      ],
    });
    expect(webhookBody(SAMPLES.kill).id).toBe("web-20261202T010203Z/kill");
    expect(webhookBody(SAMPLES.skipped)).toMatchObject({ reason: "blackout", victims: [] });
  });

  it("says dry-run plainly: the flag, the results and the summary", () => {
    const body = webhookBody(dryRun(SAMPLES.kill));
    expect(body.dryRun).toBe(true);
    expect(body.victims.map((v) => v.result)).toEqual(["dry_run", "dry_run"]);
    expect(body.summary).toBe("DRY RUN — web: would kill 2 pods; nothing was killed");
    expect(webhookBody(dryRun(SAMPLES.skipped)).summary).toMatch(/^DRY RUN — /);
  });

  it("sends only the documented fields, and no figure JSON cannot carry", () => {
    const n = {
      ...SAMPLES.recovered,
      secret: "x",
      victims: [
        {
          ...SAMPLES.recovered.victims?.[0],
          uid: "1234",
          phases: { replaced: Number.NaN, ready: Infinity, recovered: -1, steady: 2 },
        },
      ],
    } as unknown as ChaosNotification;
    const body = webhookBody(n);
    expect(check(body)).toBe("");
    expect(body).not.toHaveProperty("secret");
    expect(body.victims[0]).not.toHaveProperty("uid");
    expect(body.victims[0]?.phases).toEqual({ steady: 2 });
  });

  it("is refused by the schema when a required field is missing or an enum is unknown", () => {
    const body = webhookBody(SAMPLES.kill);
    expect(check({ ...body, id: undefined })).toMatch(/id/);
    expect(check({ ...body, event: "killed" })).toMatch(/event/);
    expect(check({ ...body, apiVersion: "chaos-monkey.io/v2" })).toMatch(/apiVersion/);
    expect(check({ ...body, time: "yesterday" })).toMatch(/time/);
  });
});
