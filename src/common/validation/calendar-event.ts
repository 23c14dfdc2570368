/**
 * Proxmox calendar events (the `pve-calendar-event` format of backup, replication and other job schedules),
 * parsed and evaluated the way proxmox-time does it (PVE::CalendarEvent hands the text to that Rust crate):
 *
 *   [WEEKDAYS] [[YEARS-]MONTHS-DAYS] [HOURS:]MINUTES[:SECONDS] [UTC]
 *
 * - weekdays: `mon`…`sun` or their full names (any case), comma lists and `..` ranges (`fri..mon` wraps);
 * - every number field: `*`, a value, a list `a,b`, a range `a..b`, a repetition `start/step` or
 *   `a..b/step`, and `*\/step` (from the field's first value);
 * - a time without `:` is the minute (`*\/15` = every 15 minutes of every hour), seconds default to 0;
 * - only a weekday or a date (no time) means 00:00;
 * - the keywords minutely, hourly, daily, weekly, monthly, yearly/annually, quarterly, semiannually.
 *
 * No library parses this dialect: the systemd-like npm packages accept other syntax (cron fields, `~` days,
 * `Sat..Sun,Mon` mixes) or reject what PVE accepts (`30/10`, `8..17,22:0/15`).
 */

/** One element of a number field's list. `end` bounds a range or a repetition. */
export type CalendarValue =
  | { kind: 'single'; value: number }
  | { kind: 'range'; start: number; end: number }
  | { kind: 'repeat'; start: number; step: number; end?: number };

export interface CalendarEvent {
  /** Computed in UTC instead of the node's time zone (the text ended in `UTC`). */
  utc: boolean;
  /** Weekday numbers, 0 = Sunday … 6 = Saturday; empty = every day. */
  weekdays: number[];
  /** Empty list = any value. */
  year: CalendarValue[];
  month: CalendarValue[];
  day: CalendarValue[];
  hour: CalendarValue[];
  minute: CalendarValue[];
  second: CalendarValue[];
}

/** Thrown for text PVE would refuse; `message` is PVE's sentence, `at` the unparsed rest. */
export class CalendarEventError extends Error {
  constructor(
    message: string,
    readonly at: string,
  ) {
    super(message);
    this.name = 'CalendarEventError';
  }
}

const WEEKDAYS: Record<string, number> = {
  mon: 1,
  monday: 1,
  tue: 2,
  tuesday: 2,
  wed: 3,
  wednesday: 3,
  thu: 4,
  thursday: 4,
  fri: 5,
  friday: 5,
  sat: 6,
  saturday: 6,
  sun: 0,
  sunday: 0,
};

const single = (value: number): CalendarValue => ({ kind: 'single', value });
const ZERO = [single(0)];

function event(parts: Partial<CalendarEvent>): CalendarEvent {
  return {
    utc: false,
    weekdays: [],
    year: [],
    month: [],
    day: [],
    hour: [],
    minute: [],
    second: [],
    ...parts,
  };
}

const KEYWORDS: Record<string, Partial<CalendarEvent>> = {
  minutely: { second: ZERO },
  hourly: { minute: ZERO, second: ZERO },
  daily: { hour: ZERO, minute: ZERO, second: ZERO },
  weekly: { hour: ZERO, minute: ZERO, second: ZERO, weekdays: [1] },
  monthly: { hour: ZERO, minute: ZERO, second: ZERO, day: [single(1)] },
  yearly: { hour: ZERO, minute: ZERO, second: ZERO, day: [single(1)], month: [single(1)] },
  annually: { hour: ZERO, minute: ZERO, second: ZERO, day: [single(1)], month: [single(1)] },
  quarterly: {
    hour: ZERO,
    minute: ZERO,
    second: ZERO,
    day: [single(1)],
    month: [1, 4, 7, 10].map(single),
  },
  semiannually: { hour: ZERO, minute: ZERO, second: ZERO, day: [single(1)], month: [1, 7].map(single) },
  'semi-annually': { hour: ZERO, minute: ZERO, second: ZERO, day: [single(1)], month: [1, 7].map(single) },
};

/** A tiny cursor parser; each `parse*` returns undefined (nothing consumed) or throws on a hard error. */
class Cursor {
  constructor(public rest: string) {}

  take(prefix: string): boolean {
    if (!this.rest.startsWith(prefix)) return false;
    this.rest = this.rest.slice(prefix.length);
    return true;
  }

  spaces(): void {
    this.rest = this.rest.replace(/^[ \t]+/, '');
  }

  /** parse_time_comp: digits, below `max`. */
  number(max: number): number | undefined {
    const m = /^\d+/.exec(this.rest);
    if (!m) return undefined;
    const value = Number(m[0]);
    this.rest = this.rest.slice(m[0].length);
    if (value >= max) throw new CalendarEventError('time value too large', this.rest);
    return value;
  }
}

/** parse_date_time_comp: `v`, `a..b`, `v/step`, `a..b/step`. */
function comp(c: Cursor, max: number): CalendarValue | undefined {
  const value = c.number(max);
  if (value === undefined) return undefined;
  if (c.take('..')) {
    const end = c.number(max);
    if (end === undefined) throw new CalendarEventError('invalid range', c.rest);
    if (value > end) throw new CalendarEventError('range start is bigger than end', c.rest);
    if (c.take('/')) {
      const step = c.number(max);
      if (step === undefined) throw new CalendarEventError('invalid repetition', c.rest);
      return { kind: 'repeat', start: value, step, end };
    }
    return { kind: 'range', start: value, end };
  }
  if (c.take('/')) {
    const step = c.number(max);
    if (step === undefined) throw new CalendarEventError('invalid repetition', c.rest);
    return { kind: 'repeat', start: value, step };
  }
  return single(value);
}

/** parse_date_time_comp_list: `*`, `*\/step` or a comma list of comps. */
function compList(c: Cursor, first: number, max: number): CalendarValue[] | undefined {
  if (c.take('*')) {
    if (c.rest.startsWith('/')) {
      const save = c.rest;
      c.take('/');
      const step = c.number(max);
      if (step !== undefined && step > 0) return [{ kind: 'repeat', start: first, step }];
      c.rest = save;
    }
    return [];
  }
  const head = comp(c, max);
  if (!head) return undefined;
  const list = [head];
  while (c.rest.startsWith(',')) {
    c.take(',');
    const next = comp(c, max);
    if (!next) throw new CalendarEventError('invalid list', c.rest);
    list.push(next);
  }
  return list;
}

/** Runs `fn` on a copy of the cursor; commits only when it returned something without throwing. */
function attempt<T>(c: Cursor, fn: (c: Cursor) => T | undefined): T | undefined {
  const trial = new Cursor(c.rest);
  try {
    const result = fn(trial);
    if (result !== undefined) c.rest = trial.rest;
    return result;
  } catch {
    return undefined;
  }
}

function dateSpec(c: Cursor): Pick<CalendarEvent, 'year' | 'month' | 'day'> | undefined {
  return (
    attempt(c, (t) => {
      const year = compList(t, 0, 2200);
      if (!year || !t.take('-')) return undefined;
      const month = compList(t, 1, 13);
      if (!month || !t.take('-')) return undefined;
      const day = compList(t, 1, 32);
      return day ? { year, month, day } : undefined;
    }) ??
    attempt(c, (t) => {
      const month = compList(t, 1, 13);
      if (!month || !t.take('-')) return undefined;
      const day = compList(t, 1, 32);
      return day ? { year: [], month, day } : undefined;
    })
  );
}

function timeSpec(c: Cursor): Pick<CalendarEvent, 'hour' | 'minute' | 'second'> | undefined {
  const hour = attempt(c, (t) => {
    const h = compList(t, 0, 24);
    return h && t.take(':') ? h : undefined;
  });
  const minute = compList(c, 0, 60);
  if (!minute) {
    if (hour) throw new CalendarEventError('invalid minute', c.rest);
    return undefined;
  }
  let second: CalendarValue[] = ZERO;
  if (c.rest.startsWith(':')) {
    const s = attempt(c, (t) => (t.take(':') ? compList(t, 0, 60) : undefined));
    if (s) second = s;
  }
  return { hour: hour ?? [], minute, second };
}

function weekdayRange(c: Cursor): number[] | undefined {
  const name = (t: Cursor): number | undefined => {
    const m = /^[A-Za-z]+/.exec(t.rest);
    if (!m) return undefined;
    const day = WEEKDAYS[m[0].toLowerCase()];
    if (day === undefined) throw new CalendarEventError('weekday', t.rest);
    t.rest = t.rest.slice(m[0].length);
    return day;
  };
  const start = name(c);
  if (start === undefined) return undefined;
  if (!c.rest.startsWith('..')) return [start];
  c.take('..');
  const end = name(c);
  if (end === undefined) throw new CalendarEventError('weekday', c.rest);
  // Monday-first order, as proxmox-time's bit flags; a range past Sunday wraps to Monday
  const order = (d: number) => (d + 6) % 7;
  const days: number[] = [];
  for (let i = order(start); ; i = (i + 1) % 7) {
    days.push((i + 1) % 7);
    if (i === order(end)) break;
  }
  return days;
}

/**
 * Parses a calendar event as PVE does, or throws CalendarEventError with PVE's reason
 * (`unable to parse calendar event at '<rest>' - <what>`).
 */
export function parseCalendarEvent(text: string): CalendarEvent {
  let input = text;
  let utc = false;
  if (input.endsWith('UTC')) {
    utc = true;
    input = input.slice(0, -3).replace(/ +$/, '');
  }
  const keyword = KEYWORDS[input];
  if (keyword) return event({ ...keyword, utc });

  const c = new Cursor(input);
  const parsed = event({ utc });
  let has = false;
  try {
    if (/^[A-Za-z]/.test(c.rest)) {
      const days = new Set<number>();
      for (;;) {
        const range = weekdayRange(c);
        if (!range) throw new CalendarEventError('weekday range list', c.rest);
        for (const d of range) days.add(d);
        if (!c.take(',')) break;
      }
      parsed.weekdays = [...days].sort((a, b) => a - b);
      has = true;
      c.spaces();
    }
    const date = dateSpec(c);
    if (date) {
      Object.assign(parsed, date);
      has = true;
      c.spaces();
    }
    const time = timeSpec(c);
    if (time) {
      Object.assign(parsed, time);
      has = true;
    } else {
      Object.assign(parsed, { hour: ZERO, minute: ZERO, second: ZERO });
    }
    if (!has) throw new CalendarEventError('date or time specification', c.rest);
    if (c.rest !== '') throw new CalendarEventError('unexpected text', c.rest);
  } catch (error) {
    if (error instanceof CalendarEventError) {
      throw new CalendarEventError(
        `unable to parse calendar event at '${error.at}' - ${error.message}`,
        error.at,
      );
    }
    throw error;
  }
  // a week day set with all seven days is no restriction
  if (parsed.weekdays.length === 7) parsed.weekdays = [];
  return parsed;
}

/** null when the text is a valid calendar event, else PVE's reason. */
export function calendarEventProblem(text: string): string | null {
  try {
    parseCalendarEvent(text);
    return null;
  } catch (error) {
    return error instanceof CalendarEventError ? error.message : String(error);
  }
}

// ------------------------------------------------------------------------------------------- evaluation

function contains(list: readonly CalendarValue[], v: number): boolean {
  return list.some((x) => {
    if (x.kind === 'single') return x.value === v;
    if (x.kind === 'range') return v >= x.start && v <= x.end;
    if (v < x.start || (x.end !== undefined && v > x.end)) return false;
    return x.step === 0 ? v === x.start : (v - x.start) % x.step === 0;
  });
}

/** The smallest value of the list above `v`, if any. */
function findNext(list: readonly CalendarValue[], v: number): number | undefined {
  let best: number | undefined;
  const offer = (n: number) => {
    if (n > v && (best === undefined || n < best)) best = n;
  };
  for (const x of list) {
    if (x.kind === 'single') offer(x.value);
    else if (x.kind === 'range') {
      if (x.start > v) offer(x.start);
      else if (v < x.end) offer(v + 1);
    } else if (x.start > v) offer(x.start);
    else if (x.step > 0) {
      const n = x.start + (Math.floor((v - x.start) / x.step) + 1) * x.step;
      if (x.end === undefined || n <= x.end) offer(n);
    }
  }
  return best;
}

/** Wall-clock time as a UTC-based Date used as a plain calendar (tm_editor's struct tm). */
class Wall {
  constructor(public d: Date) {}
  get year() {
    return this.d.getUTCFullYear();
  }
  get month() {
    return this.d.getUTCMonth() + 1;
  }
  get day() {
    return this.d.getUTCDate();
  }
  get weekday() {
    return this.d.getUTCDay();
  }
  get hour() {
    return this.d.getUTCHours();
  }
  get minute() {
    return this.d.getUTCMinutes();
  }
  get second() {
    return this.d.getUTCSeconds();
  }
  addYears(n: number) {
    this.d = new Date(Date.UTC(this.year + n, 0, 1));
  }
  addMonths(n: number) {
    this.d = new Date(Date.UTC(this.year, this.month - 1 + n, 1));
  }
  addDays(n: number) {
    this.d = new Date(Date.UTC(this.year, this.month - 1, this.day + n));
  }
  setTime(h: number, mi: number, s: number) {
    this.d = new Date(Date.UTC(this.year, this.month - 1, this.day, h, mi, s));
  }
}

/** Seconds the zone is ahead of UTC at `epoch` (0 for UTC or an unknown zone). */
export function zoneOffsetSeconds(timeZone: string | undefined, epoch: number): number {
  if (!timeZone || timeZone === 'UTC' || timeZone === 'Etc/UTC') return 0;
  try {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    }).formatToParts(new Date(epoch * 1000));
    const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
    const wall = Date.UTC(
      get('year'),
      get('month') - 1,
      get('day'),
      get('hour'),
      get('minute'),
      get('second'),
    );
    return Math.round(wall / 1000) - epoch;
  } catch {
    return 0;
  }
}

/**
 * The first time after `after` (UNIX seconds) the event fires, in `timeZone` (the node's; UTC when the event says
 * so), or undefined when it never fires again (a past date, 31 February). compute_next_event's walk: a field that
 * does not match moves to its next allowed value, resetting the smaller ones; at most 1000 steps.
 */
export function nextCalendarRun(ev: CalendarEvent, after: number, timeZone?: string): number | undefined {
  const zone = ev.utc ? 'UTC' : timeZone;
  const start = after + 1;
  const w = new Wall(new Date((start + zoneOffsetSeconds(zone, start)) * 1000));
  const weekdays = new Set(ev.weekdays);
  for (let count = 0; count <= 1000; count++) {
    if (ev.year.length && !contains(ev.year, w.year)) {
      const n = findNext(ev.year, w.year);
      if (n === undefined) return undefined;
      w.addYears(n - w.year);
      continue;
    }
    if (ev.month.length && !contains(ev.month, w.month)) {
      const n = findNext(ev.month, w.month);
      w.addMonths(n === undefined ? 13 - w.month : n - w.month);
      continue;
    }
    if (ev.day.length && !contains(ev.day, w.day)) {
      const n = findNext(ev.day, w.day);
      // a day past the month's end rolls into the next month, as mktime does
      if (n === undefined) w.addMonths(1);
      else w.addDays(n - w.day);
      continue;
    }
    if (weekdays.size && !weekdays.has(w.weekday)) {
      w.addDays(1);
      continue;
    }
    if (ev.hour.length && !contains(ev.hour, w.hour)) {
      const n = findNext(ev.hour, w.hour);
      if (n === undefined) w.addDays(1);
      else w.setTime(n, 0, 0);
      continue;
    }
    if (ev.minute.length && !contains(ev.minute, w.minute)) {
      const n = findNext(ev.minute, w.minute);
      if (n === undefined) w.setTime(w.hour + 1, 0, 0);
      else w.setTime(w.hour, n, 0);
      continue;
    }
    if (ev.second.length && !contains(ev.second, w.second)) {
      const n = findNext(ev.second, w.second);
      if (n === undefined) w.setTime(w.hour, w.minute + 1, 0);
      else w.setTime(w.hour, w.minute, n);
      continue;
    }
    const wallSeconds = Math.floor(w.d.getTime() / 1000);
    // wall time → epoch: the zone's offset at that moment (a second guess settles DST changes)
    let epoch = wallSeconds - zoneOffsetSeconds(zone, wallSeconds);
    epoch = wallSeconds - zoneOffsetSeconds(zone, epoch);
    return epoch;
  }
  return undefined;
}

/** Up to `count` next runs after `after`, ascending. */
export function nextCalendarRuns(
  ev: CalendarEvent,
  after: number,
  count: number,
  timeZone?: string,
): number[] {
  const runs: number[] = [];
  let last = after;
  while (runs.length < count) {
    const next = nextCalendarRun(ev, last, timeZone);
    if (next === undefined || next <= last) break;
    runs.push(next);
    last = next;
  }
  return runs;
}
