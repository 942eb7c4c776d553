// Compiled with tsc by .ci/contract against types that openapi-typescript
// generated from spec/shiheng-open.yaml (into a temporary directory), then run
// with node. Shows what a TypeScript team writes:
//   - plain types (`shiheng-open.d.ts`, openapi-typescript's CLI): int64 is `number`,
//     exact only up to 2^53 - fine for counts, NOT for ids;
//   - bigint-aware types (`shiheng-open-bigint.d.ts`, generate-bigint.mjs): int64 is
//     `number | bigint`, paired with lossless-json so ids above 2^53 stay exact.
import type { components as Plain } from "./shiheng-open.js";
import type { components as Exact } from "./shiheng-open-bigint.js";
import { isSafeNumber, parse } from "lossless-json";

declare const process: { exitCode?: number };
declare const console: { log(text: string): void; error(text: string): void };

type EmployeePage = NonNullable<Plain["schemas"]["EmployeePage"]>;
type Employee = Plain["schemas"]["Employee"];
type ExactResponse = Exact["schemas"]["ListWecomEmployeesResponse"];
type ExactEmployee = Exact["schemas"]["Employee"];

/** Employees per status, over one page (plain types: counts fit in `number`). */
export function countByStatus(page: EmployeePage): Map<number | null, number> {
  const counts = new Map<number | null, number>();
  for (const employee of page.result ?? []) {
    const status: number | null = employee.status ?? null;
    counts.set(status, (counts.get(status) ?? 0) + 1);
  }
  return counts;
}

/** A phone as text, whichever wire form the platform used (string or number). */
export function phoneText(employee: Employee | ExactEmployee): string | null {
  const phone = employee.phone;
  return phone === null || phone === undefined ? null : String(phone);
}

/** Parses a listWecomEmployees answer keeping every integer exact: safe integers
 *  as `number`, larger ones as `bigint` (what the `number | bigint` types say). */
export function parseEmployeesResponse(text: string): ExactResponse {
  return parse(text, undefined, (value: string) =>
    isSafeNumber(value) ? Number(value) : BigInt(value),
  ) as ExactResponse;
}

/** An id as a bigint whatever its wire size, for keys and comparisons. */
export function idOf(employee: ExactEmployee): bigint | null {
  return employee.id === null || employee.id === undefined ? null : BigInt(employee.id);
}

const sample =
  '{"code":"0","msg":null,"traceId":"t","result":{"pages":1,"total":2,"result":[' +
  '{"id":1473493,"status":6,"phone":13577770000},' +
  '{"id":9007199254740993,"status":1,"phone":"13577770001"}]}}';

const exact = parseEmployeesResponse(sample);
const ids = (exact.result?.result ?? []).map(idOf);
const plain = JSON.parse(sample) as { result: EmployeePage };
const rounded = plain.result.result?.[1]?.id;
const ok =
  ids[1] === 9007199254740993n &&
  ids[0] === 1473493n &&
  String(rounded) === "9007199254740992" && // JSON.parse rounds: the reason for all this
  countByStatus(plain.result).get(6) === 1 &&
  phoneText(exact.result?.result?.[0] ?? {}) === "13577770000";
console.log(
  `typescript: ids ${ids.join(", ")} exact with lossless-json (JSON.parse gives ${String(rounded)})`,
);
if (!ok) {
  console.error("typescript: 64-bit id check failed");
  process.exitCode = 1;
}
