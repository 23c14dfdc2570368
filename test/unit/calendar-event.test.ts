import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  calendarEventProblem,
  nextCalendarRun,
  nextCalendarRuns,
  parseCalendarEvent,
  zoneOffsetSeconds,
} from '../../src/common/validation/calendar-event.js';

/** UNIX seconds of a UTC wall time. */
const at = (text: string): number => Date.parse(`${text}Z`) / 1000;
const show = (epoch: number): string => new Date(epoch * 1000).toISOString().slice(0, 19);
/** The next `count` runs after `from` (UTC), as `YYYY-MM-DDTHH:MM:SS`. */
const runs = (schedule: string, from: string, count = 3, zone?: string): string[] =>
  nextCalendarRuns(parseCalendarEvent(schedule), at(from), count, zone).map(show);

// Monday 7 December 2026, 02:30:00 UTC
const MON = '2026-12-07T02:30:00';

describe('calendar events: what PVE accepts (proxmox-time), with the next runs', () => {
  test('the examples of the PVE admin guide (Schedule Format appendix)', () => {
    // schedule, alternative spelling, first runs after Monday 02:30
    const table: Array<[string, string | null, string[]]> = [
      [
        'mon,tue,wed,thu,fri',
        'mon..fri',
        ['2026-12-08T00:00:00', '2026-12-09T00:00:00', '2026-12-10T00:00:00'],
      ],
      ['sat,sun', 'sat..sun', ['2026-12-12T00:00:00', '2026-12-13T00:00:00', '2026-12-19T00:00:00']],
      ['mon,wed,fri', null, ['2026-12-09T00:00:00', '2026-12-11T00:00:00', '2026-12-14T00:00:00']],
      ['12:05', null, ['2026-12-07T12:05:00', '2026-12-08T12:05:00', '2026-12-09T12:05:00']],
      ['*/5', '0/5', ['2026-12-07T02:35:00', '2026-12-07T02:40:00', '2026-12-07T02:45:00']],
      [
        'mon..wed 30/10',
        'mon,tue,wed 30/10',
        ['2026-12-07T02:40:00', '2026-12-07T02:50:00', '2026-12-07T03:30:00'],
      ],
      ['mon..fri 8..17,22:0/15', null, ['2026-12-07T08:00:00', '2026-12-07T08:15:00', '2026-12-07T08:30:00']],
      [
        'fri 12..13:5/20',
        'fri 12,13:5/20',
        ['2026-12-11T12:05:00', '2026-12-11T12:25:00', '2026-12-11T12:45:00'],
      ],
      [
        '12,14,16,18,20,22:5',
        '12/2:5',
        ['2026-12-07T12:05:00', '2026-12-07T14:05:00', '2026-12-07T16:05:00'],
      ],
      ['*', '*/1', ['2026-12-07T02:31:00', '2026-12-07T02:32:00', '2026-12-07T02:33:00']],
      ['*-05', null, ['2027-01-05T00:00:00', '2027-02-05T00:00:00', '2027-03-05T00:00:00']],
      ['Sat *-1..7 15:00', null, ['2027-01-02T15:00:00', '2027-02-06T15:00:00', '2027-03-06T15:00:00']],
      ['2015-10-21', null, []],
    ];
    for (const [schedule, alternative, expected] of table) {
      assert.equal(calendarEventProblem(schedule), null, schedule);
      assert.deepEqual(runs(schedule, MON), expected, schedule);
      if (alternative) assert.deepEqual(runs(alternative, MON), expected, alternative);
    }
  });

  test('the keywords', () => {
    assert.deepEqual(runs('minutely', MON, 2), ['2026-12-07T02:31:00', '2026-12-07T02:32:00']);
    assert.deepEqual(runs('hourly', MON, 2), ['2026-12-07T03:00:00', '2026-12-07T04:00:00']);
    assert.deepEqual(runs('daily', MON, 2), ['2026-12-08T00:00:00', '2026-12-09T00:00:00']);
    assert.deepEqual(runs('weekly', MON, 2), ['2026-12-14T00:00:00', '2026-12-21T00:00:00']);
    assert.deepEqual(runs('monthly', MON, 2), ['2027-01-01T00:00:00', '2027-02-01T00:00:00']);
    assert.deepEqual(runs('yearly', MON, 2), ['2027-01-01T00:00:00', '2028-01-01T00:00:00']);
    assert.deepEqual(runs('annually', MON, 1), ['2027-01-01T00:00:00']);
    assert.deepEqual(runs('quarterly', MON, 2), ['2027-01-01T00:00:00', '2027-04-01T00:00:00']);
    assert.deepEqual(runs('semiannually', MON, 2), ['2027-01-01T00:00:00', '2027-07-01T00:00:00']);
    assert.deepEqual(runs('semi-annually', MON, 1), ['2027-01-01T00:00:00']);
  });

  test('the schedules backup jobs use: weekday lists and ranges (wrapping past Sunday), dates, seconds', () => {
    assert.deepEqual(runs('sun 01:00', MON), [
      '2026-12-13T01:00:00',
      '2026-12-20T01:00:00',
      '2026-12-27T01:00:00',
    ]);
    assert.deepEqual(runs('mon..fri 02:30', MON, 2), ['2026-12-08T02:30:00', '2026-12-09T02:30:00']);
    assert.deepEqual(runs('*-*-1 03:00', MON, 2), ['2027-01-01T03:00:00', '2027-02-01T03:00:00']);
    assert.deepEqual(runs('fri..mon 04:00', MON, 4), [
      '2026-12-07T04:00:00',
      '2026-12-11T04:00:00',
      '2026-12-12T04:00:00',
      '2026-12-13T04:00:00',
    ]);
    assert.deepEqual(runs('Monday,SATURDAY 21:00', MON, 2), ['2026-12-07T21:00:00', '2026-12-12T21:00:00']);
    assert.deepEqual(runs('02:30:15', MON, 1), ['2026-12-07T02:30:15']);
    assert.deepEqual(runs('2030-01-01', MON), ['2030-01-01T00:00:00']);
    assert.deepEqual(runs('2026..2027-02-29', MON), [], 'no 29 February in 2026 or 2027');
    assert.deepEqual(runs('*-02-29 12:00', MON, 1), ['2028-02-29T12:00:00']);
    assert.deepEqual(runs('*-*-31', '2027-01-31T12:00:00', 2), [
      '2027-03-31T00:00:00',
      '2027-05-31T00:00:00',
    ]);
    assert.deepEqual(runs('*-1,7-1..3/2 6:00', MON, 3), [
      '2027-01-01T06:00:00',
      '2027-01-03T06:00:00',
      '2027-07-01T06:00:00',
    ]);
    // every seven days past the 1st of the month, an hour range with a repetition
    assert.deepEqual(runs('*-*-1/7 9..17/4:00', '2026-12-08T00:00:00', 4), [
      '2026-12-08T09:00:00',
      '2026-12-08T13:00:00',
      '2026-12-08T17:00:00',
      '2026-12-15T09:00:00',
    ]);
    // a run exactly at `after` is not "next"
    assert.deepEqual(runs('02:30', MON, 1), ['2026-12-08T02:30:00']);
  });

  test('like PVE: a lone number is the minute, and an hour of 24 or more makes it minute:second', () => {
    assert.deepEqual(runs('30', MON, 2), ['2026-12-07T03:30:00', '2026-12-07T04:30:00']);
    // proxmox-time tries HOUR: first and falls back to MINUTE:SECOND, so '24:00' is minute 24 of every hour
    assert.deepEqual(runs('24:00', MON, 2), ['2026-12-07T03:24:00', '2026-12-07T04:24:00']);
  });

  test('time zones: the node time zone, with its daylight-saving changes; a trailing UTC overrides it', () => {
    const vienna = 'Europe/Vienna';
    assert.equal(zoneOffsetSeconds(vienna, at('2026-12-07T00:00:00')), 3600);
    assert.equal(zoneOffsetSeconds(vienna, at('2026-07-07T00:00:00')), 7200);
    assert.equal(zoneOffsetSeconds(undefined, at(MON)), 0);
    assert.equal(zoneOffsetSeconds('No/Such_Zone', at(MON)), 0);
    assert.deepEqual(runs('daily', MON, 2, vienna), ['2026-12-07T23:00:00', '2026-12-08T23:00:00']);
    // 29 March 2026: 01:00 local is still CET, the week after CEST
    assert.deepEqual(runs('sun 01:00', '2026-03-28T00:00:00', 2, vienna), [
      '2026-03-29T00:00:00',
      '2026-04-04T23:00:00',
    ]);
    assert.deepEqual(runs('00:00 UTC', MON, 1, vienna), ['2026-12-08T00:00:00']);
    assert.deepEqual(runs('sun 01:00 UTC', MON, 1, vienna), ['2026-12-13T01:00:00']);
    assert.equal(parseCalendarEvent('hourly UTC').utc, true);
    assert.equal(nextCalendarRun(parseCalendarEvent('2015-10-21'), at(MON)), undefined);
  });
});

describe('calendar events: what PVE refuses, with its reason', () => {
  test('unknown words, bad ranges, values out of range, leftovers', () => {
    const refused: Array<[string, RegExp]> = [
      ['dayly', /^unable to parse calendar event at 'dayly' - weekday$/],
      ['Daily', /weekday/],
      ['every day', /at 'every day' - weekday/],
      ['mon..funday 01:00', /at 'funday 01:00' - weekday/],
      ['mon,', /weekday range list/],
      ['01:60', /time value too large/],
      ['*-13-01', /at '-01'/],
      ['5..3', /range start is bigger than end/],
      ['1,,2', /at ',2' - invalid list/],
      ['*/0', /at '\/0'/],
      ['sun 01:00 please', /at ' please'/],
      ['2:3:4:5', /at ':5'/],
      ['', /date or time specification/],
      [' daily', /date or time specification/],
      ['mon 60', /time value too large/],
    ];
    for (const [schedule, reason] of refused) {
      const problem = calendarEventProblem(schedule);
      assert.ok(problem, `'${schedule}' is refused`);
      assert.match(problem, reason, schedule);
      assert.throws(() => parseCalendarEvent(schedule), { name: 'CalendarEventError' });
    }
  });
});
