// Generates TypeScript types from spec/shiheng-open.yaml with openapi-typescript's
// Node API, typing every `format: int64` value as `number | bigint`: ids may exceed
// 2^53 and JSON.parse would silently round them. Pair these types with a parser
// that keeps large integers exact (lossless-json, see list-all.ts).
//
//   node generate-bigint.mjs SPEC OUT.d.ts
import fs from "node:fs";
import { pathToFileURL } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";

const [spec, out] = process.argv.slice(2);
if (!spec || !out) {
  console.error("usage: node generate-bigint.mjs SPEC OUT.d.ts");
  process.exit(2);
}
const NUMBER = ts.factory.createKeywordTypeNode(ts.SyntaxKind.NumberKeyword);
const BIGINT = ts.factory.createKeywordTypeNode(ts.SyntaxKind.BigIntKeyword);
const NULL = ts.factory.createLiteralTypeNode(ts.factory.createNull());

const ast = await openapiTS(pathToFileURL(spec), {
  transform(schema) {
    if (schema.type === "integer" && schema.format === "int64") {
      const types = [NUMBER, BIGINT];
      if (schema.nullable) types.push(NULL);
      return ts.factory.createUnionTypeNode(types);
    }
    return undefined;
  },
});
fs.writeFileSync(out, astToString(ast));
