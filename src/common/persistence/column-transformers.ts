import type { ValueTransformer } from 'typeorm';

/** Epoch milliseconds in a `bigint` column: PostgreSQL's driver returns bigint as a string, SQLite as a number. */
export const epochMs: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null || value === undefined ? null : Number(value)),
};

/** JSON kept as text, identical on SQLite and PostgreSQL. */
export const jsonText: ValueTransformer = {
  to: (value: unknown) => (value === undefined || value === null ? null : JSON.stringify(value)),
  from: (value: string | null) =>
    value === null || value === undefined ? null : (JSON.parse(value) as unknown),
};
