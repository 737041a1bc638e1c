// The Slack message against Slack's documented incoming-webhook and Block Kit fields and limits
// (api.slack.com/reference/block-kit/blocks): a message is `text` plus at most 50 `blocks`; a
// header holds plain_text of at most 150 characters; a section holds mrkdwn text of at most 3000
// characters and/or at most 10 fields of at most 2000; a context holds at most 10 elements.
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { NOTIFY_EVENTS } from "../config/types.js";
import type { ChaosNotification, NotifiedVictim } from "./event.js";
import { dryRun, SAMPLES } from "../../test/fixtures/notify.js";
import { escapeMrkdwn, slackMessage } from "./slack.js";
import type { SlackMessage } from "./slack.js";

const textObject = (type: string, maxLength: number) => ({
  type: "object",
  required: ["type", "text"],
  additionalProperties: false,
  properties: {
    type: { const: type },
    text: { type: "string", minLength: 1, maxLength },
    emoji: { type: "boolean" },
  },
});
const mrkdwn = (maxLength: number) => textObject("mrkdwn", maxLength);

/** The incoming-webhook payload, as far as these messages use it. */
const SLACK_PAYLOAD = {
  type: "object",
  required: ["text", "blocks"],
  additionalProperties: false,
  properties: {
    text: { type: "string", minLength: 1, maxLength: 4000 },
    blocks: {
      type: "array",
      minItems: 1,
      maxItems: 50,
      items: {
        type: "object",
        required: ["type"],
        properties: { type: { enum: ["header", "section", "context"] } },
        allOf: [
          {
            if: { properties: { type: { const: "header" } }, required: ["type"] },
            then: {
              required: ["text"],
              additionalProperties: false,
              properties: { type: { const: "header" }, text: textObject("plain_text", 150) },
            },
          },
          {
            if: { properties: { type: { const: "section" } }, required: ["type"] },
            then: {
              anyOf: [{ required: ["text"] }, { required: ["fields"] }],
              additionalProperties: false,
              properties: {
                type: { const: "section" },
                text: mrkdwn(3000),
                fields: { type: "array", minItems: 1, maxItems: 10, items: mrkdwn(2000) },
              },
            },
          },
          {
            if: { properties: { type: { const: "context" } }, required: ["type"] },
            then: {
              required: ["elements"],
              additionalProperties: false,
              properties: {
                type: { const: "context" },
                elements: { type: "array", minItems: 1, maxItems: 10, items: mrkdwn(3000) },
              },
            },
          },
        ],
      },
    },
  },
};
const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(SLACK_PAYLOAD);
function check(message: SlackMessage): string {
  return validate(JSON.parse(JSON.stringify(message))) ? "" : ajv.errorsText(validate.errors);
}

const texts = (m: SlackMessage): string[] =>
  m.blocks.flatMap((b) =>
    b.type === "header"
      ? [b.text.text]
      : b.type === "section"
        ? [b.text?.text ?? "", ...(b.fields ?? []).map((f) => f.text)]
        : b.elements.map((e) => e.text),
  );
const all = (m: SlackMessage): string => [m.text, ...texts(m)].join("\n");

describe("slackMessage", () => {
  describe.each(NOTIFY_EVENTS.flatMap((e) => [SAMPLES[e], dryRun(SAMPLES[e])]))(
    "$event (dryRun $dryRun)",
    (n) => {
      it("uses only documented fields within Slack's limits", () => {
        expect(check(slackMessage(n))).toBe("");
      });

      it("names the target, the round and the seed", () => {
        const m = slackMessage(n);
        expect(m.blocks[0]?.type).toBe("header");
        expect(all(m)).toContain("web");
        expect(all(m)).toContain("web-20261202T010203Z");
        expect(all(m)).toContain("5eed");
      });

      it(
        n.dryRun
          ? "says DRY RUN in the header, the fallback and the context"
          : "never says dry run",
        () => {
          const m = slackMessage(n);
          const header = m.blocks[0]?.type === "header" ? m.blocks[0].text.text : "";
          if (n.dryRun) {
            expect(header).toContain("DRY RUN");
            expect(m.text).toMatch(/^DRY RUN — /);
            expect(texts(m).some((t) => t.includes("DRY RUN — nothing was killed"))).toBe(true);
          } else expect(all(m)).not.toMatch(/dry run/i);
        },
      );
    },
  );

  it("a kill lists its victims; in dry-run as what would be killed", () => {
    const live = slackMessage(SAMPLES.kill);
    expect(live.text).toBe(
      "web: killed 2 pods: Pod shop/web-7d9c5b-x2x4q, Pod shop/web-7d9c5b-k8m2z",
    );
    expect(texts(live)[1]).toBe(
      "• Pod `shop/web-7d9c5b-x2x4q` — killed\n• Pod `shop/web-7d9c5b-k8m2z` — killed",
    );
    const dry = slackMessage(dryRun(SAMPLES.kill));
    expect(texts(dry)[0]).toBe("💥 DRY RUN — web: would kill 2 pods; nothing was killed");
    expect(texts(dry)[1]).toContain("— would be killed");
  });

  it("a recovery shows every phase, the disruption and the objective's verdict", () => {
    const m = slackMessage(SAMPLES.recovered);
    expect(texts(m)[0]).toBe("✅ web: Pod shop/web-7d9c5b-x2x4q recovered in 14.4s");
    const fields = m.blocks.find((b) => b.type === "section" && b.fields !== undefined);
    expect(fields?.type === "section" && fields.fields?.map((f) => f.text)).toEqual([
      "*Replaced*\n0.4s",
      "*Ready*\n6.1s",
      "*Recovered*\n6.3s",
      "*Steady*\n14.4s",
      "*Disruption*\n4s",
      "*Objective*\n1m (met)",
      "*Outcome*\nrecovered",
    ]);
    expect(all(slackMessage(SAMPLES.objective_missed))).toContain("*Objective*\n1m (*missed*)");
    expect(texts(slackMessage(SAMPLES.objective_missed))[0]).toBe(
      "⏱️ web: Pod shop/web-7d9c5b-x2x4q took 1m11.9s, over its 1m objective",
    );
    expect(slackMessage(SAMPLES.not_recovered).text).toBe(
      "web: Pod shop/web-7d9c5b-x2x4q did not recover (timeout)",
    );
  });

  it("a skip says why in words, a failure quotes its error", () => {
    expect(all(slackMessage(SAMPLES.skipped))).toContain("blackout: inside a blackout window");
    const failed = slackMessage(SAMPLES.round_failed);
    expect(texts(failed)[1]).toBe("```list pods: connect ECONNREFUSED 10.96.0.1:443```");
    expect(failed.text).toBe("web: round failed: list pods: connect ECONNREFUSED 10.96.0.1:443");
  });

  it("escapes what Slack would read as markup, so no name can ping a channel", () => {
    const n: ChaosNotification = {
      ...SAMPLES.round_failed,
      reason: "<!channel> a & b <https://evil|click>",
    };
    const m = slackMessage(n);
    expect(all(m)).not.toContain("<!channel>");
    expect(all(m)).toContain("&lt;!channel&gt; a &amp; b");
    expect(escapeMrkdwn("<&>")).toBe("&lt;&amp;&gt;");
  });

  it("stays within the limits for a thousand victims and a huge error", () => {
    const victims: NotifiedVictim[] = Array.from({ length: 1000 }, (_, i) => ({
      kind: "Pod",
      namespace: "shop",
      name: `web-${"x".repeat(40)}-${i}`,
      result: "killed",
    }));
    const many = slackMessage({ ...SAMPLES.kill, victims });
    expect(check(many)).toBe("");
    expect(texts(many)[1]).toMatch(/\n… and \d+ more$/);
    expect(many.text).toMatch(/… and \d+ more$/);
    const huge = slackMessage({ ...SAMPLES.round_failed, reason: "e".repeat(50_000) });
    expect(check(huge)).toBe("");
    const longName = slackMessage({
      ...SAMPLES.skipped,
      target: "t".repeat(63),
      reason: "r".repeat(500),
    });
    expect(check(longName)).toBe("");
  });
});
