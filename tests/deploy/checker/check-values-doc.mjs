// Checks that helm/tickstream/values.yaml documents every key: each setting (a key whose value is a
// scalar, a list or an empty map) has a comment above it, or sits inside a block whose key has a
// "-- " comment describing the block as a whole (resources, security contexts); and, with --schema,
// that values.schema.json describes no key values.yaml lacks (every setting has its default and
// comment here, the schema requiring it; additionalProperties refuses the reverse at render).
//
//   node check-values-doc.mjs --values helm/tickstream/values.yaml [--schema values.schema.json]
import { isMap, parseDocument } from "yaml";
import { parseArgs, readText, Report } from "./lib.mjs";

const opts = parseArgs(process.argv.slice(2));
const report = new Report("values.yaml documentation");
const doc = parseDocument(readText(opts.values));
for (const e of doc.errors) report.fail(`values.yaml does not parse: ${e.message}`);

function walk(map, path, documentedBlock) {
  map.items.forEach((pair, i) => {
    // The first key's comment is kept on the map itself by the parser.
    const comment = (pair.key.commentBefore ?? (i === 0 ? map.commentBefore : "") ?? "").trim();
    const name = `${path}${pair.key.value}`;
    const isBlockDoc = comment.split("\n").some((l) => l.trim().startsWith("-- "));
    const value = pair.value;
    if (isMap(value) && value.items.length > 0) {
      walk(value, `${name}.`, documentedBlock || (comment !== "" && isBlockDoc));
      return;
    }
    report.check(documentedBlock || comment !== "", `${name} has no comment saying what it is`);
  });
}
if (isMap(doc.contents)) walk(doc.contents, "", false);
else report.fail("values.yaml is not a map");

if (opts.schema) {
  const schema = JSON.parse(readText(opts.schema));
  const values = doc.toJS();
  // Keys the schema requires must be in values.yaml (optional ones, such as ephemeral-storage in
  // resources, need no default).
  const compare = (node, value, path) => {
    if (node?.type !== "object") return;
    for (const k of node.required ?? []) {
      const sub = node.properties?.[k];
      const present = value !== null && typeof value === "object" && k in value;
      if (report.check(present, `${opts.schema} declares ${path}${k}, which values.yaml does not set`)) compare(sub, value[k], `${path}${k}.`);
    }
  };
  compare(schema, values, "");
}
report.finish();
