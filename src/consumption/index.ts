export { formatScaled, SCALE, scaled } from './decimal.js';
export { addFigures, derive, quantities, type DerivedFigures, type PeakPower, type PeriodFigures, type Quantity } from './figures.js';
export { Calendar, DEFAULT_BILLING_DATE, periodKinds, type MonthDay, type Period, type PeriodKind } from './periods.js';
export {
  addRun,
  consumptionRegisterIds,
  DEFAULT_GAP_MS,
  emptySeriesState,
  monthDayOf,
  seriesRegisters,
  type MeterSeriesState,
  type RunSample,
  type SampleReading,
  type SeriesOptions,
  type SeriesUpdate,
} from './series.js';
