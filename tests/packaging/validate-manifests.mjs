// Validate Kubernetes manifests against the Kubernetes API schema, with the
// models and compiled JSON-schema validators of the npm package
// kubernetes-models, plus a check the schema leaves out: unknown fields
// (a typo such as "privilegd: true"), which the API server refuses under
// kubectl's default strict field validation.
//
//   node validate-manifests.mjs FILE.yaml...   exit 0 when every document is valid
//   node validate-manifests.mjs --self-test    prove the checks reject bad manifests
import fs from "node:fs";
import YAML from "yaml";

// kubernetes-models/<group path>/<version> exports a model class per kind;
// kubernetes-models/_schemas/IoK8sApi<Group><Version><Kind> the validator.
async function loadKind(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const modelModule = group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
  const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
  const groupName = group ? group.split(".")[0].split("-").map(cap).join("") : "Core";
  const schemaModule = `kubernetes-models/_schemas/IoK8sApi${groupName}${cap(version)}${kind}`;
  const models = await import(modelModule);
  if (!models[kind]) throw new Error(`no model for ${apiVersion} ${kind}`);
  const { validate } = await import(schemaModule);
  return { Model: models[kind], validate };
}

// Run the schema validator on a proxy that records which keys it looks at.
// Keys of an object it never looked at are not in the schema; objects it
// enumerated (maps such as labels, data, resources) take any key.
function unknownFields(validate, doc) {
  const seen = new Map(); // object -> Set of keys read, or "map"
  const wrap = (obj) =>
    new Proxy(obj, {
      get(target, key) {
        if (typeof key === "string") {
          if (!seen.has(target)) seen.set(target, new Set());
          const s = seen.get(target);
          if (s !== "map") s.add(key);
        }
        const v = Reflect.get(target, key);
        return v && typeof v === "object" ? wrap(v) : v;
      },
      has(target, key) {
        if (typeof key === "string") {
          if (!seen.has(target)) seen.set(target, new Set());
          const s = seen.get(target);
          if (s !== "map") s.add(key);
        }
        return Reflect.has(target, key);
      },
      ownKeys(target) {
        seen.set(target, "map");
        return Reflect.ownKeys(target);
      },
    });
  validate(wrap(doc));
  const unknown = [];
  const walk = (obj, path) => {
    if (!obj || typeof obj !== "object") return;
    if (Array.isArray(obj)) return obj.forEach((v, i) => walk(v, `${path}/${i}`));
    const s = seen.get(obj);
    for (const [k, v] of Object.entries(obj)) {
      if (s !== "map" && !(s && s.has(k))) unknown.push(`${path}/${k}`);
      else walk(v, `${path}/${k}`);
    }
  };
  walk(doc, "");
  return unknown;
}

async function check(doc) {
  if (!doc || typeof doc !== "object" || !doc.apiVersion || !doc.kind)
    return ["not a Kubernetes object (apiVersion and kind are required)"];
  let kind;
  try {
    kind = await loadKind(doc.apiVersion, doc.kind);
  } catch (e) {
    return [`unknown apiVersion/kind ${doc.apiVersion} ${doc.kind}: ${e.message}`];
  }
  const problems = [];
  try {
    new kind.Model(doc).validate();
  } catch (e) {
    problems.push(e.message);
  }
  for (const path of unknownFields(kind.validate, doc)) problems.push(`${path}: unknown field`);
  if (!doc.metadata || !doc.metadata.name) problems.push("metadata.name is missing");
  return problems;
}

async function checkFile(file) {
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
  let bad = 0, n = 0;
  for (const d of docs) {
    if (d.errors.length) {
      console.log(`FAIL ${file}: YAML: ${d.errors.map((e) => e.message).join("; ")}`);
      bad++;
      continue;
    }
    const doc = d.toJS();
    if (doc === null) continue;
    n++;
    const problems = await check(doc);
    const what = `${file}: ${doc.kind}/${doc.metadata?.name}`;
    if (problems.length) {
      bad++;
      for (const p of problems) console.log(`FAIL ${what}: ${p}`);
    } else {
      console.log(`ok ${what}`);
    }
  }
  if (n === 0) {
    console.log(`FAIL ${file}: no Kubernetes object in it`);
    bad++;
  }
  return bad;
}

async function selfTest() {
  const base = () => ({
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: "t", labels: { "app.kubernetes.io/name": "t" } },
    spec: {
      selector: { matchLabels: { a: "b" } },
      template: {
        metadata: { labels: { a: "b" } },
        spec: {
          containers: [{ name: "c", image: "i", securityContext: { privileged: true },
                         resources: { requests: { cpu: "5m", memory: "8Mi" } },
                         volumeMounts: [{ name: "v", mountPath: "/v" }] }],
          volumes: [{ name: "v", hostPath: { path: "/v", type: "DirectoryOrCreate" } }],
        },
      },
    },
  });
  const cases = [
    ["a valid DaemonSet", (d) => d, true],
    ["a volumeMount without mountPath", (d) => delete d.spec.template.spec.containers[0].volumeMounts[0].mountPath, false],
    ["a misspelt field (privilegd)", (d) => (d.spec.template.spec.containers[0].securityContext = { privilegd: true }), false],
    ["an unknown top-level spec field", (d) => (d.spec.replicas = 3), false],
    ["a string where a boolean goes", (d) => (d.spec.template.spec.containers[0].securityContext.privileged = "yes"), false],
    ["a wrong kind for the apiVersion", (d) => (d.apiVersion = "v1"), false],
  ];
  let failed = 0;
  for (const [name, mutate, valid] of cases) {
    const d = base();
    mutate(d);
    const problems = await check(d);
    const ok = valid ? problems.length === 0 : problems.length > 0;
    console.log(`${ok ? "ok" : "FAIL"} self-test: ${name} is ${valid ? "accepted" : "refused"}${problems.length ? ` (${problems[0].split("\n")[0]})` : ""}`);
    if (!ok) failed++;
  }
  return failed;
}

const args = process.argv.slice(2);
let failed = 0;
if (args[0] === "--self-test") failed = await selfTest();
else if (!args.length) {
  console.error("usage: validate-manifests.mjs FILE.yaml... | --self-test");
  process.exit(2);
} else for (const f of args) failed += await checkFile(f);
process.exit(failed ? 1 : 0);
