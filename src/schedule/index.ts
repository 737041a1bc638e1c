export { formatDuration, parseDuration } from "./duration.js";
export {
  nextFire,
  nextFires,
  parseSchedule,
  type NextFireOptions,
  type ParseScheduleResult,
  type Schedule,
} from "./cron.js";
export {
  isValidTimeZone,
  localParts,
  wallTimeInstants,
  zoneOffsetMs,
  type LocalParts,
  type WallTimeInstants,
} from "./zone.js";
export {
  inBlackout,
  parseBlackoutDate,
  parseTimeRange,
  parseWeekday,
  type Blackout,
  type BlackoutDate,
  type TimeOfDayRange,
} from "./blackout.js";
export { jitterDelay } from "./jitter.js";
