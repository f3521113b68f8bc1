// The registers this logger knows by name: every register of the MULTICAL 402 script it replaces,
// and the other ids of kmp-protocol.md §6 for the 302/403/601/602/603 and Kamstrup water meters.
// Names are stable: they become field names downstream. Units always come from the meter's answer.

export const meterModels = [
  'multical-302',
  'multical-402',
  'multical-403',
  'multical-601',
  'multical-602',
  'multical-603',
  'multical-21',
  'flowiq',
] as const;
export type MeterModel = (typeof meterModels)[number];

/** How often a register changes, and so how often it is worth waking the meter for it. */
export type RegisterPeriod = 'live' | 'monthly' | 'yearly' | 'static';

export type Quantity =
  | 'energy'
  | 'power'
  | 'volume'
  | 'flow'
  | 'temperature'
  | 'temperature-difference'
  | 'volume-temperature'
  | 'date'
  | 'time'
  | 'date-time'
  | 'duration'
  | 'count'
  | 'code';

export interface RegisterDefinition {
  readonly id: number;
  /** Stable snake_case name used on the command line, in config files and downstream. */
  readonly name: string;
  /** Kamstrup's label or the seed script's name; also accepted where a register is asked for. */
  readonly label: string;
  readonly description: string;
  readonly quantity: Quantity;
  readonly period: RegisterPeriod;
  readonly models: readonly MeterModel[];
}

const HEAT: readonly MeterModel[] = ['multical-302', 'multical-402', 'multical-403', 'multical-601', 'multical-602', 'multical-603'];
const HEAT_AND_WATER: readonly MeterModel[] = [...HEAT, 'multical-21', 'flowiq'];
const STATISTICS: readonly MeterModel[] = ['multical-402', 'multical-403', 'multical-601', 'multical-602', 'multical-603'];
const MAX_STATISTICS: readonly MeterModel[] = ['multical-302', ...STATISTICS];
const WATER: readonly MeterModel[] = ['multical-21', 'flowiq'];

function r(
  id: number,
  name: string,
  label: string,
  description: string,
  quantity: Quantity,
  period: RegisterPeriod,
  models: readonly MeterModel[] = HEAT,
): RegisterDefinition {
  return { id, name, label, description, quantity, period, models };
}

export const registerCatalogue: readonly RegisterDefinition[] = [
  // Live values and counters
  r(60, 'heat_energy', 'E1', 'Heat energy E1 (unit as configured in the meter: kWh, MWh, GJ or Gcal)', 'energy', 'live'),
  r(63, 'cooling_energy', 'E3', 'Cooling energy E3', 'energy', 'live'),
  r(64, 'tariff_register_2', 'TA2', 'Tariff register 2', 'energy', 'live'),
  r(66, 'tariff_limit_2', 'TL2', 'Tariff limit 2', 'count', 'static'),
  r(67, 'tariff_limit_3', 'TL3', 'Tariff limit 3', 'count', 'static'),
  r(68, 'volume', 'V1', 'Volume V1', 'volume', 'live', HEAT_AND_WATER),
  r(74, 'flow', 'Flow', 'Actual flow', 'flow', 'live', HEAT_AND_WATER),
  r(80, 'power', 'Power', 'Actual power', 'power', 'live'),
  r(84, 'pulse_input_a', 'VA', 'Pulse input A', 'volume', 'live'),
  r(85, 'pulse_input_b', 'VB', 'Pulse input B', 'volume', 'live'),
  r(86, 't1', 'Temp1', 'Flow temperature T1', 'temperature', 'live'),
  r(87, 't2', 'Temp2', 'Return temperature T2', 'temperature', 'live'),
  r(89, 't_diff', 'Tempdiff', 'Temperature difference T1 − T2', 'temperature-difference', 'live'),
  r(97, 'm3_t1', 'Temp1xm3', 'E8: volume × flow temperature (m³ × T1), for the volume-weighted mean T1', 'volume-temperature', 'live'),
  r(98, 'target_date', 'Target date', 'Target (billing) date', 'date', 'static'),
  r(99, 'info', 'Info', 'Info code: bit field of current error conditions (0 = all well)', 'code', 'live', HEAT_AND_WATER),
  r(110, 'm3_t2', 'Temp2xm3', 'E9: volume × return temperature (m³ × T2), for the volume-weighted mean T2', 'volume-temperature', 'live'),
  r(113, 'info_events', 'Infoevent', 'Info-event counter: how many times the info code changed', 'count', 'live'),
  r(152, 'program_number', 'Program no.', 'Program number (meter configuration)', 'code', 'static'),
  r(153, 'config_number_1', 'Config no. 1', 'Configuration number 1', 'code', 'static'),
  r(155, 'heat_energy_high_res_test', 'E1 high res (test)', 'High-resolution heat energy, test register (602; not answered by a 403)', 'energy', 'live', ['multical-602', 'multical-603']),
  r(168, 'config_number_2', 'Config no. 2', 'Configuration number 2', 'code', 'static'),
  r(229, 't1_average', 'T1 average', 'Average flow temperature T1', 'temperature', 'live', ['multical-403', 'multical-603']),
  r(230, 't2_average', 'T2 average', 'Average return temperature T2', 'temperature', 'live', ['multical-403', 'multical-603']),
  r(266, 'heat_energy_high_res', 'E1 high res', 'Heat energy E1 in high resolution (Wh)', 'energy', 'live', ['multical-403', 'multical-603']),
  r(348, 'date_time', 'Date/time', 'Meter date and time, 7 bytes with DST offset (unit 0x4F)', 'date-time', 'live', ['multical-603']),
  r(1001, 'serial_number', 'Serial no.', 'Serial number (also answered by GetSerialNo)', 'code', 'static', HEAT_AND_WATER),
  r(1002, 'clock', 'Clock', "Meter clock, the meter's local time", 'time', 'live'),
  r(1003, 'date', 'Date', "Meter date, the meter's local time", 'date', 'live'),
  r(1004, 'hour_counter', 'HourCounter', 'Operating hours', 'duration', 'live', HEAT_AND_WATER),
  // Yearly statistics: min/max are averages over the meter's averaging period (403: default 60 min)
  r(123, 'max_flow_date_year', 'MaxFlowDate_Y', 'Date of the highest flow this year', 'date', 'yearly', MAX_STATISTICS),
  r(124, 'max_flow_year', 'MaxFlow_Y', 'Highest flow this year', 'flow', 'yearly', MAX_STATISTICS),
  r(125, 'min_flow_date_year', 'MinFlowDate_Y', 'Date of the lowest flow this year', 'date', 'yearly', STATISTICS),
  r(126, 'min_flow_year', 'MinFlow_Y', 'Lowest flow this year', 'flow', 'yearly', STATISTICS),
  r(127, 'max_power_date_year', 'MaxPowerDate_Y', 'Date of the highest power this year', 'date', 'yearly', MAX_STATISTICS),
  r(128, 'max_power_year', 'MaxPower_Y', 'Highest power this year', 'power', 'yearly', MAX_STATISTICS),
  r(129, 'min_power_date_year', 'MinPowerDate_Y', 'Date of the lowest power this year', 'date', 'yearly', STATISTICS),
  r(130, 'min_power_year', 'MinPower_Y', 'Lowest power this year', 'power', 'yearly', STATISTICS),
  r(146, 'avg_t1_year', 'AvgTemp1_Y', 'Average flow temperature T1 this year', 'temperature', 'yearly', STATISTICS),
  r(147, 'avg_t2_year', 'AvgTemp2_Y', 'Average return temperature T2 this year', 'temperature', 'yearly', STATISTICS),
  // Monthly statistics
  r(138, 'max_flow_date_month', 'MaxFlowDate_M', 'Date of the highest flow this month', 'date', 'monthly', MAX_STATISTICS),
  r(139, 'max_flow_month', 'MaxFlow_M', 'Highest flow this month', 'flow', 'monthly', MAX_STATISTICS),
  r(140, 'min_flow_date_month', 'MinFlowDate_M', 'Date of the lowest flow this month', 'date', 'monthly', STATISTICS),
  r(141, 'min_flow_month', 'MinFlow_M', 'Lowest flow this month', 'flow', 'monthly', STATISTICS),
  r(142, 'max_power_date_month', 'MaxPowerDate_M', 'Date of the highest power this month', 'date', 'monthly', MAX_STATISTICS),
  r(143, 'max_power_month', 'MaxPower_M', 'Highest power this month', 'power', 'monthly', MAX_STATISTICS),
  r(144, 'min_power_date_month', 'MinPowerDate_M', 'Date of the lowest power this month', 'date', 'monthly', STATISTICS),
  r(145, 'min_power_month', 'MinPower_M', 'Lowest power this month', 'power', 'monthly', STATISTICS),
  r(149, 'avg_t1_month', 'AvgTemp1_M', 'Average flow temperature T1 this month', 'temperature', 'monthly', STATISTICS),
  r(150, 'avg_t2_month', 'AvgTemp2_M', 'Average return temperature T2 this month', 'temperature', 'monthly', STATISTICS),
  // MULTICAL 603: the time of day of each extreme, next to its date. Which extreme each id
  // belongs to is not in the sources this catalogue is built from, so the names stay neutral.
  r(383, 'extreme_time_383', 'Time 383', 'Time of a min/max extreme (MULTICAL 603)', 'time', 'yearly', ['multical-603']),
  r(385, 'extreme_time_385', 'Time 385', 'Time of a min/max extreme (MULTICAL 603)', 'time', 'yearly', ['multical-603']),
  r(387, 'extreme_time_387', 'Time 387', 'Time of a min/max extreme (MULTICAL 603)', 'time', 'yearly', ['multical-603']),
  r(389, 'extreme_time_389', 'Time 389', 'Time of a min/max extreme (MULTICAL 603)', 'time', 'yearly', ['multical-603']),
  // Water meters (MULTICAL 21 / flowIQ)
  r(243, 'volume_reverse', 'V1 reverse', 'Volume V1 flowing backwards', 'volume', 'live', WATER),
  r(292, 'water_temperature', 'Water temp.', 'Water temperature', 'temperature', 'live', WATER),
  r(299, 'ambient_temperature', 'Ambient temp.', 'Ambient temperature', 'temperature', 'live', WATER),
];

const byId = new Map(registerCatalogue.map((d) => [d.id, d]));

export function registerById(id: number): RegisterDefinition | undefined {
  return byId.get(id);
}

export function registersOfModel(model: MeterModel): RegisterDefinition[] {
  return registerCatalogue.filter((d) => d.models.includes(model));
}
