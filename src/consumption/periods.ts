// The periods consumption is counted in: local calendar days, ISO weeks (Monday to Sunday),
// months, years and billing years, as instants in a time zone. Every kind is a run of whole
// local days, so an interval cut at day boundaries is cut at every other kind's boundaries too.

import { dayAfter, type LocalDay, type Zone } from '../time/zone.js';

export const periodKinds = ['day', 'week', 'month', 'year', 'billing'] as const;
export type PeriodKind = (typeof periodKinds)[number];

/** A day of the year, as a billing date: `month` 1-12. */
export interface MonthDay {
  readonly month: number;
  readonly day: number;
}

/** When no billing date is read or configured: the calendar year. */
export const DEFAULT_BILLING_DATE: MonthDay = { month: 1, day: 1 };

export interface Period {
  readonly kind: PeriodKind;
  /** First instant (epoch ms), inclusive. */
  readonly start: number;
  /** First instant of the next period (epoch ms), exclusive. */
  readonly end: number;
  /** 2026-03-29, 2026-W13, 2026-03, 2026, or the billing year's first day 2025-06-01. */
  readonly label: string;
}

const pad = (n: number): string => String(n).padStart(2, '0');
const dayLabel = (d: LocalDay): string => `${d.year}-${pad(d.month)}-${pad(d.day)}`;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Monday 0 … Sunday 6. */
function weekday(d: LocalDay): number {
  return (new Date(Date.UTC(d.year, d.month - 1, d.day)).getUTCDay() + 6) % 7;
}

/** The billing year's first day that `d` falls in; a 29 February date is the 28th in other years. */
function billingStart(d: LocalDay, billing: MonthDay): LocalDay {
  const on = (year: number): LocalDay => ({ year, month: billing.month, day: Math.min(billing.day, daysInMonth(year, billing.month)) });
  const thisYear = on(d.year);
  const before = d.month < thisYear.month || (d.month === thisYear.month && d.day < thisYear.day);
  return before ? on(d.year - 1) : thisYear;
}

function isoWeekLabel(monday: LocalDay): string {
  const thursday = dayAfter(monday, 3);
  const ordinal = (Date.UTC(thursday.year, thursday.month - 1, thursday.day) - Date.UTC(thursday.year, 0, 1)) / 86_400_000;
  return `${thursday.year}-W${pad(Math.floor(ordinal / 7) + 1)}`;
}

/** The periods of a zone, with the local day of the last instant asked about remembered (runs come a few minutes apart). */
export class Calendar {
  private cachedDay: { readonly start: number; readonly end: number; readonly day: LocalDay } | null = null;

  constructor(readonly zone: Zone) {}

  /** The local day an instant falls on, with its first instant and the next day's. */
  dayAt(ms: number): { readonly start: number; readonly end: number; readonly day: LocalDay } {
    const cached = this.cachedDay;
    if (cached !== null && ms >= cached.start && ms < cached.end) return cached;
    const day = this.zone.localDay(ms);
    const found = { start: this.zone.startOf(day), end: this.zone.startOf(dayAfter(day)), day };
    this.cachedDay = found;
    return found;
  }

  /** The period of each kind that the instant falls in. */
  periodsAt(ms: number, billing: MonthDay): Period[] {
    const { start, end, day } = this.dayAt(ms);
    const monday = dayAfter(day, -weekday(day));
    const month = { year: day.year, month: day.month, day: 1 };
    const nextMonth = month.month === 12 ? { year: day.year + 1, month: 1, day: 1 } : { year: day.year, month: day.month + 1, day: 1 };
    const billed = billingStart(day, billing);
    const nextBilled = billingStart({ year: billed.year + 1, month: 12, day: 31 }, billing);
    return [
      { kind: 'day', start, end, label: dayLabel(day) },
      { kind: 'week', start: this.zone.startOf(monday), end: this.zone.startOf(dayAfter(monday, 7)), label: isoWeekLabel(monday) },
      { kind: 'month', start: this.zone.startOf(month), end: this.zone.startOf(nextMonth), label: `${day.year}-${pad(day.month)}` },
      { kind: 'year', start: this.zone.startOf({ year: day.year, month: 1, day: 1 }), end: this.zone.startOf({ year: day.year + 1, month: 1, day: 1 }), label: String(day.year) },
      { kind: 'billing', start: this.zone.startOf(billed), end: this.zone.startOf(nextBilled), label: dayLabel(billed) },
    ];
  }

  /** The local days that (from, to] overlaps, as [start, end) parts clipped to it, in order. */
  dayParts(from: number, to: number): { readonly start: number; readonly end: number }[] {
    const parts: { start: number; end: number }[] = [];
    for (let at = from; at < to; ) {
      const end = Math.min(this.dayAt(at).end, to);
      parts.push({ start: at, end });
      at = end;
    }
    return parts;
  }
}
