// A Slack incoming-webhook message (SPEC §6b) someone reads at a glance: a header that says what
// happened, the victims or the recovery figures, and a context line with round, seed and time.
// `text` is what notifications and screen readers show. Only header, section and context blocks,
// within Slack's documented limits: at most 50 blocks, header text 150 characters, section text
// 3000, 10 fields of 2000 each, 10 context elements.
import type { ChaosNotification, NotifiedVictim } from "./event.js";
import { lastPhaseSeconds, objectName } from "./event.js";
import { DRY_RUN_NOTE, formatSeconds, headline, skipReasonText } from "./text.js";

export interface SlackText {
  readonly type: "plain_text" | "mrkdwn";
  readonly text: string;
  readonly emoji?: boolean;
}

export type SlackBlock =
  | { readonly type: "header"; readonly text: SlackText }
  | { readonly type: "section"; readonly text?: SlackText; readonly fields?: readonly SlackText[] }
  | { readonly type: "context"; readonly elements: readonly SlackText[] };

export interface SlackMessage {
  readonly text: string;
  readonly blocks: readonly SlackBlock[];
}

export const SLACK_LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  contextElements: 10,
  // Slack truncates a message's text beyond 40,000 characters and advises far less; the fallback
  // is one line and a short list.
  text: 3000,
} as const;

/** Slack reads &, < and > as markup (`<!channel>` would ping everyone): escape what we quote. */
export function escapeMrkdwn(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** At most `max` characters (UTF-16 units, as Slack counts), an ellipsis marking a cut. */
function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

const ICONS: Readonly<Record<ChaosNotification["event"], string>> = {
  kill: "💥",
  recovered: "✅",
  not_recovered: "❌",
  objective_missed: "⏱️",
  round_failed: "⚠️",
  skipped: "⏭️",
};

const RESULT_TEXT: Readonly<Record<string, string>> = {
  killed: "killed",
  dry_run: "would be killed",
  failed: "*kill failed*",
};

function victimLine(v: NotifiedVictim): string {
  const result = v.result === undefined ? "" : ` — ${RESULT_TEXT[v.result] ?? v.result}`;
  return `• ${escapeMrkdwn(v.kind)} \`${escapeMrkdwn(objectName(v))}\`${result}`;
}

/** As many items as fit in `max` characters, then how many were left out. */
function fitLines(lines: readonly string[], max: number, separator = "\n"): string {
  const kept: string[] = [];
  let length = 0;
  for (const [i, line] of lines.entries()) {
    const more = `… and ${lines.length - i} more`;
    const room = i === lines.length - 1 ? max : max - more.length - separator.length;
    if (length + line.length + separator.length > room) return [...kept, more].join(separator);
    kept.push(line);
    length += line.length + separator.length;
  }
  return kept.join(separator);
}

const mrkdwn = (text: string): SlackText => ({ type: "mrkdwn", text });
const section = (text: string): SlackBlock => ({
  type: "section",
  text: mrkdwn(clip(text, SLACK_LIMITS.sectionText)),
});
const field = (label: string, value: string): SlackText =>
  mrkdwn(clip(`*${label}*\n${value}`, SLACK_LIMITS.fieldText));

/** The recovery figures of one victim, as label/value fields. */
function figureFields(v: NotifiedVictim): SlackText[] {
  const fields: SlackText[] = [];
  const phases = v.phases ?? {};
  for (const [label, seconds] of [
    ["Replaced", phases.replaced],
    ["Ready", phases.ready],
    ["Recovered", phases.recovered],
    ["Steady", phases.steady],
    ["Disruption", v.disruptionSeconds],
  ] as const)
    if (seconds !== undefined) fields.push(field(label, formatSeconds(seconds)));
  if (v.objectiveSeconds !== undefined) {
    const took = lastPhaseSeconds(v.phases);
    const verdict = took === undefined ? "" : took <= v.objectiveSeconds ? " (met)" : " (*missed*)";
    fields.push(field("Objective", `${formatSeconds(v.objectiveSeconds)}${verdict}`));
  }
  if (v.outcome !== undefined) fields.push(field("Outcome", escapeMrkdwn(v.outcome)));
  return fields.slice(0, SLACK_LIMITS.fields);
}

function bodyBlocks(n: ChaosNotification): SlackBlock[] {
  const victims = n.victims ?? [];
  switch (n.event) {
    case "kill":
      return victims.length === 0
        ? [section("No victims.")]
        : [section(fitLines(victims.map(victimLine), SLACK_LIMITS.sectionText))];
    case "round_failed":
      return [section(`\`\`\`${escapeMrkdwn(clip(n.reason ?? "no error message", 2900))}\`\`\``)];
    case "skipped":
      return [section(`Skipped: *${escapeMrkdwn(skipReasonText(n.reason))}*`)];
    default: {
      const [v] = victims;
      if (v === undefined) return [];
      const fields = figureFields(v);
      const who = section(`${escapeMrkdwn(v.kind)} \`${escapeMrkdwn(objectName(v))}\``);
      return fields.length === 0 ? [who] : [who, { type: "section", fields }];
    }
  }
}

/** Slack shows <!date^…> in the reader's own time zone, and the ISO time where it cannot. */
function slackTime(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escapeMrkdwn(iso);
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time_secs}|${escapeMrkdwn(iso)}>`;
}

function contextBlock(n: ChaosNotification): SlackBlock {
  const facts = [
    `target \`${escapeMrkdwn(n.target)}\``,
    `round \`${escapeMrkdwn(n.round)}\``,
    `seed \`${escapeMrkdwn(n.seed)}\``,
    slackTime(n.time),
  ].join(" · ");
  const elements = [
    ...(n.dryRun ? [mrkdwn(`*${DRY_RUN_NOTE}*`)] : []),
    mrkdwn(clip(facts, SLACK_LIMITS.sectionText)),
  ];
  return { type: "context", elements };
}

/** The fallback: the headline, then the victims (or the error) as far as they fit. */
function fallbackText(n: ChaosNotification): string {
  const first = escapeMrkdwn(headline(n));
  const victims = n.victims ?? [];
  const detail =
    n.event === "kill" && victims.length > 0
      ? fitLines(
          victims.map((v) => `${escapeMrkdwn(v.kind)} ${escapeMrkdwn(objectName(v))}`),
          SLACK_LIMITS.text - first.length - 2,
          ", ",
        )
      : n.event === "round_failed" && n.reason !== undefined
        ? escapeMrkdwn(clip(n.reason, 500))
        : "";
  return clip(
    detail === "" ? first : `${first}: ${detail.replaceAll("\n", ", ")}`,
    SLACK_LIMITS.text,
  );
}

export function slackMessage(n: ChaosNotification): SlackMessage {
  const header: SlackBlock = {
    type: "header",
    text: {
      type: "plain_text",
      text: clip(`${ICONS[n.event]} ${headline(n)}`, SLACK_LIMITS.headerText),
      emoji: true,
    },
  };
  return { text: fallbackText(n), blocks: [header, ...bodyBlocks(n), contextBlock(n)] };
}
