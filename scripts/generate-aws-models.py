#!/usr/bin/env python3
"""Generate Berth's typed AWS JSON 1.1 clients from botocore's service models.

The shapes the chosen operations reach are written as Swift `Codable` structs, with every member
that botocore (and so `aws ... --cli-input-json`) knows, so that what the AWS CLI accepts Berth
accepts and sends back intact. Run with the test virtual environment's Python (`make models`)
and commit the output; the build never runs this script.
"""
import gzip
import html
import json
import os
import re
import sys

import botocore

ROOT = os.path.join(os.path.dirname(__file__), "..")
DATA = os.path.join(os.path.dirname(botocore.__file__), "data")

SERVICES = [
    {
        "model": "ecs/2014-11-13", "namespace": "ECS", "client": "ECSClient", "module": "AWSECS",
        "operations": [
            "DescribeClusters", "ListClusters", "RegisterTaskDefinition", "DescribeTaskDefinition",
            "DeregisterTaskDefinition", "ListTaskDefinitions", "CreateService", "UpdateService",
            "DescribeServices", "DeleteService", "ListServices", "RunTask", "DescribeTasks", "ListTasks",
            "StopTask", "TagResource", "CreateCluster", "DeleteCluster", "ListServiceDeployments",
            "DescribeServiceDeployments", "StopServiceDeployment", "ContinueServiceDeployment",
            "DescribeServiceRevisions",
        ],
    },
    {
        "model": "ecr/2015-09-21", "namespace": "ECR", "client": "ECRClient", "module": "AWSECR",
        "operations": ["DescribeImages"],
    },
    {
        "model": "secretsmanager/2017-10-17", "namespace": "SecretsManager", "client": "SecretsManagerClient",
        "module": "AWSSecretsManager", "operations": ["DescribeSecret"],
    },
    {
        "model": "ssm/2014-11-06", "namespace": "SSM", "client": "SSMClient", "module": "AWSSSM",
        "operations": ["DescribeParameters"],
    },
    {
        "model": "logs/2014-03-28", "namespace": "CloudWatchLogs", "client": "CloudWatchLogsClient",
        "module": "AWSCloudWatchLogs",
        "operations": [
            "GetLogEvents", "FilterLogEvents", "CreateLogGroup", "CreateLogStream", "PutLogEvents", "PutRetentionPolicy",
            "DescribeLogGroups",
        ],
    },
]

SWIFT_KEYWORDS = {
    "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init",
    "inout", "internal", "let", "open", "operator", "private", "protocol", "public", "rethrows", "static",
    "struct", "subscript", "typealias", "var", "break", "case", "continue", "default", "defer", "do",
    "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return", "switch", "where", "while",
    "as", "catch", "false", "is", "nil", "super", "self", "Self", "throw", "throws", "true", "try", "Type",
}


def load(path):
    with gzip.open(os.path.join(DATA, path, "service-2.json.gz")) as handle:
        return json.load(handle)


def first_sentence(documentation):
    if not documentation:
        return None
    text = re.sub(r"<[^>]+>", " ", documentation)
    text = html.unescape(re.sub(r"\s+", " ", text)).strip()
    match = re.match(r"(.+?\.)(\s|$)", text)
    sentence = match.group(1) if match else text
    return sentence if len(sentence) <= 240 else sentence[:237].rstrip() + "…"


def identifier(name):
    return f"`{name}`" if name in SWIFT_KEYWORDS else name


def case_name(value, taken):
    words = [w for w in re.split(r"[^A-Za-z0-9]+", value) if w]
    if not words:
        words = ["value"]
    parts = []
    for index, word in enumerate(words):
        word = word if not word.isupper() else word.lower()
        parts.append(word[0].lower() + word[1:] if index == 0 else word[0].upper() + word[1:])
    name = "".join(parts)
    if name[0].isdigit():
        name = "_" + name
    base, counter = name, 2
    while name in taken:
        name, counter = f"{base}{counter}", counter + 1
    taken.add(name)
    return identifier(name)


class Generator:
    def __init__(self, spec):
        self.spec = spec
        self.model = load(spec["model"])
        self.shapes = self.model["shapes"]
        self.emitted = []
        self.seen = set()
        self.top_level_inputs = set()

    def swift_type(self, shape_name):
        shape = self.shapes[shape_name]
        kind = shape["type"]
        if kind == "string":
            if "enum" in shape:
                self.visit(shape_name)
                return shape_name
            return "String"
        if kind in ("integer", "long"):
            return "Int"
        if kind == "boolean":
            return "Bool"
        if kind in ("double", "float"):
            return "Double"
        if kind == "timestamp":
            return "Date"
        if kind == "blob":
            return "Data"
        if kind == "list":
            return f"[{self.swift_type(shape['member']['shape'])}]"
        if kind == "map":
            return f"[{self.swift_type(shape['key']['shape'])}: {self.swift_type(shape['value']['shape'])}]"
        if kind == "structure":
            self.visit(shape_name)
            return shape_name
        raise ValueError(f"unsupported shape type {kind} for {shape_name}")

    def visit(self, shape_name):
        if shape_name in self.seen:
            return
        self.seen.add(shape_name)
        shape = self.shapes[shape_name]
        if shape["type"] == "structure":
            for member in shape.get("members", {}).values():
                self.swift_type(member["shape"])
        self.emitted.append(shape_name)

    def emit_enum(self, name, shape):
        lines = []
        doc = first_sentence(shape.get("documentation"))
        if doc:
            lines.append(f"    /// {doc}")
        lines.append(f"    public struct {name}: AWSStringEnum {{")
        lines.append("        public let rawValue: String")
        lines.append("        public init(rawValue: String) { self.rawValue = rawValue }")
        taken = {"rawValue", "init"}
        for value in shape["enum"]:
            lines.append(f"        public static let {case_name(value, taken)} = Self(rawValue: {json.dumps(value)})")
        lines.append("    }")
        return lines

    def emit_struct(self, name, shape):
        members = shape.get("members", {})
        required = set(shape.get("required", [])) if name in self.top_level_inputs else set()
        lines = []
        doc = first_sentence(shape.get("documentation"))
        if doc:
            lines.append(f"    /// {doc}")
        lines.append(f"    public struct {name}: Codable, Sendable, Hashable {{")
        params = []
        for member_name, member in members.items():
            swift = self.swift_type(member["shape"])
            optional = member_name not in required
            member_doc = first_sentence(member.get("documentation"))
            if member_doc:
                lines.append(f"        /// {member_doc}")
            lines.append(f"        public var {identifier(member_name)}: {swift}{'?' if optional else ''}")
            params.append((member_name, swift, optional))
        # Required members first, so a call reads like the operation it makes.
        params.sort(key=lambda p: p[2])
        signature = ", ".join(
            f"{identifier(n)}: {t}{'? = nil' if o else ''}" for n, t, o in params)
        lines.append("")
        lines.append(f"        public init({signature}) {{")
        for member_name, _, _ in params:
            lines.append(f"            self.{identifier(member_name)} = {identifier(member_name)}")
        lines.append("        }")
        # Services (and emulators) sometimes send a number where the model says string, as botocore
        # tolerates; string members accept both.
        if any(t == "String" for _, t, _ in params):
            lines.append("")
            lines.append("        public init(from decoder: any Decoder) throws {")
            lines.append("            let container = try decoder.container(keyedBy: CodingKeys.self)")
            for member_name, swift, optional in params:
                name = identifier(member_name)
                if swift == "String":
                    call = "decodeLenientStringIfPresent" if optional else "decodeLenientString"
                    lines.append(f"            self.{name} = try container.{call}(forKey: .{name})")
                else:
                    call = "decodeIfPresent" if optional else "decode"
                    lines.append(f"            self.{name} = try container.{call}({swift}.self, forKey: .{name})")
            lines.append("        }")
        lines.append("    }")
        return lines

    def generate(self):
        spec = self.spec
        operations = [self.model["operations"][name] for name in spec["operations"]]
        for operation in operations:
            if "input" in operation:
                self.top_level_inputs.add(operation["input"]["shape"])
        for operation in operations:
            for key in ("input", "output"):
                if key in operation:
                    self.visit(operation[key]["shape"])

        namespace = spec["namespace"]
        out = [
            "// Generated by scripts/generate-aws-models.py from botocore's "
            f"{spec['model']} model. Do not edit.",
            "import AWSCore",
            "import Foundation",
            "",
            f"extension {namespace} {{",
        ]
        for index, name in enumerate(sorted(self.emitted)):
            shape = self.shapes[name]
            if index:
                out.append("")
            out += self.emit_enum(name, shape) if shape["type"] == "string" else self.emit_struct(name, shape)
        out.append("}")
        self.write("Models.generated.swift", out)

        paginators = {}
        pagination_path = os.path.join(DATA, spec["model"], "paginators-1.json")
        if os.path.exists(pagination_path):
            with open(pagination_path) as handle:
                paginators = json.load(handle)["pagination"]

        client = spec["client"]
        out = [
            "// Generated by scripts/generate-aws-models.py from botocore's "
            f"{spec['model']} model. Do not edit.",
            "import AWSCore",
            "",
            f"extension {client} {{",
        ]
        for index, operation in enumerate(operations):
            name = operation["name"]
            method = name[0].lower() + name[1:]
            input_shape = operation["input"]["shape"]
            output_shape = operation.get("output", {}).get("shape")
            doc = first_sentence(operation.get("documentation"))
            if index:
                out.append("")
            if doc:
                out.append(f"    /// {doc}")
            if output_shape:
                out.append(f"    public func {method}(_ input: {namespace}.{input_shape}) async throws -> {namespace}.{output_shape} {{")
                out.append(f"        try await client.jsonCall(operation: {json.dumps(name)}, input: input)")
            else:
                out.append(f"    public func {method}(_ input: {namespace}.{input_shape}) async throws {{")
                out.append(f"        let _: AWSEmptyResponse = try await client.jsonCall(operation: {json.dumps(name)}, input: input)")
            out.append("    }")
            page = paginators.get(name)
            if page and isinstance(page.get("input_token"), str):
                token_in, token_out = page["input_token"], page["output_token"]
                out.append("")
                out.append(f"    /// Every page of `{name}`, fetched as the sequence is iterated.")
                out.append(f"    public func {method}Pages(_ input: {namespace}.{input_shape}) -> AWSPaginator<{namespace}.{input_shape}, {namespace}.{output_shape}> {{")
                out.append(f"        AWSPaginator(input: input, fetch: {{ try await self.{method}($0) }}, nextToken: \\.{identifier(token_out)}) {{ $0.{identifier(token_in)} = $1 }}")
                out.append("    }")
        out.append("}")
        self.write("Operations.generated.swift", out)
        return len(self.emitted)

    def write(self, filename, lines):
        path = os.path.join(ROOT, "Sources", self.spec["module"], filename)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")


def main():
    for spec in SERVICES:
        count = Generator(spec).generate()
        print(f"{spec['module']}: {count} shapes, {len(spec['operations'])} operations "
              f"(botocore {botocore.__version__})", file=sys.stderr)


if __name__ == "__main__":
    main()
