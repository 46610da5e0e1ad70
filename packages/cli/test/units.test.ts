/**
 * The CLI's logic without a server: typing of values, WfRun ids, lhctl's argument forms, the prompts of
 * `pony execute`, error texts, and `--help` of every command (in-process, through runCli).
 */
import { PassThrough } from "node:stream";
import { create } from "@bufbuild/protobuf";
import { UserTaskFieldSchema, VariableType, WfSpecSchema } from "@pony/proto";
import { LHApiError, Workflow } from "@pony/sdk";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { duration } from "../src/output/style";
import {
  buildProgram,
  CliContext,
  CliUsageError,
  describeError,
  eventContent,
  fieldQuestion,
  LineReader,
  normalizeArgv,
  parseValue,
  parseWfRunId,
  promptForFields,
  runCli,
  typedVariables,
  type CliIO,
} from "../src/index";

function captureIO(input = ""): CliIO & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d: Buffer) => (out += d.toString()));
  stderr.on("data", (d: Buffer) => (err += d.toString()));
  const stdin = new PassThrough();
  stdin.end(input);
  return { stdout, stderr, stdin, env: {}, out: () => out, err: () => err };
}

describe("the tables' durations", () => {
  it("reads as a person says them, from milliseconds to days", () => {
    expect([0, 850, 1_240, 59_949, 184_000, 7_500_000, 273_600_000].map(duration)).toEqual([
      "0ms",
      "850ms",
      "1.2s",
      "59.9s",
      "3m 04s",
      "2h 05m",
      "3d 4h",
    ]);
    expect(duration(-1)).toBe("-");
    expect(duration(Number.NaN)).toBe("-");
  });
});

describe("parseValue", () => {
  const value = (text: string, type: VariableType) => parseValue(text, type).value;

  it("types each kind of value", () => {
    expect(value(" spaced ", VariableType.STR)).toEqual({ case: "str", value: " spaced " });
    expect(value("-9223372036854775808", VariableType.INT)).toEqual({ case: "int", value: -(2n ** 63n) });
    expect(value("+7", VariableType.INT)).toEqual({ case: "int", value: 7n });
    expect(value("1e3", VariableType.DOUBLE)).toEqual({ case: "double", value: 1000 });
    expect(value("False", VariableType.BOOL)).toEqual({ case: "bool", value: false });
    expect(value('{ "a": [1, 2], "b": "12345678901234567890" }', VariableType.JSON_OBJ)).toEqual({
      case: "jsonObj",
      value: '{"a":[1,2],"b":"12345678901234567890"}',
    });
    expect(value("[]", VariableType.JSON_ARR)).toEqual({ case: "jsonArr", value: "[]" });
    expect(value("aGk=", VariableType.BYTES)).toEqual({ case: "bytes", value: new Uint8Array([104, 105]) });
  });

  it("refuses what does not fit, saying why", () => {
    const cases: [string, VariableType, RegExp][] = [
      ["1.5", VariableType.INT, /not a whole number/],
      ["9223372036854775808", VariableType.INT, /does not fit in a 64-bit INT/],
      ["", VariableType.DOUBLE, /not a number/],
      ["Infinity", VariableType.DOUBLE, /not a number/],
      ["yes", VariableType.BOOL, /not true or false/],
      ["null", VariableType.JSON_OBJ, /not a JSON object/],
      ['{"a":1}', VariableType.JSON_ARR, /not a JSON array/],
      ["[9007199254740993]", VariableType.JSON_ARR, /9007199254740993 cannot be kept exactly/],
      ["a", VariableType.BYTES, /not base64/],
    ];
    for (const [text, type, message] of cases) expect(() => parseValue(text, type)).toThrow(message);
  });
});

describe("ids and argument forms", () => {
  it("reads child WfRun ids as <parent>_<child>", () => {
    expect(parseWfRunId("plain")).toEqual({ id: "plain" });
    expect(parseWfRunId("p_c_g")).toEqual({
      id: "g",
      parentWfRunId: { id: "c", parentWfRunId: { id: "p" } },
    });
    expect(parseWfRunId("a__b")).toEqual({ id: "a__b" });
  });

  it("accepts lhctl's nouns after stop / resume / assign / execute / cancel", () => {
    expect(normalizeArgv(["stop", "wfRun", "x"])).toEqual(["stop", "x"]);
    expect(normalizeArgv(["--timeout", "5", "resume", "wfRun", "x", "--threadRunNumber", "1"])).toEqual([
      "--timeout",
      "5",
      "resume",
      "x",
      "--threadRunNumber",
      "1",
    ]);
    expect(normalizeArgv(["execute", "userTaskRun", "w", "g"])).toEqual(["execute", "w", "g"]);
    // a WfRun that is called "wfRun"
    expect(normalizeArgv(["stop", "wfRun"])).toEqual(["stop", "wfRun"]);
    expect(normalizeArgv(["get", "wfRun", "x"])).toEqual(["get", "wfRun", "x"]);
  });

  it("types run variables by the WfSpec's entrypoint thread", () => {
    const compiled = Workflow.newWorkflow("typed", (wf) => {
      wf.declareInt("n");
      wf.declareStr("s");
    }).compile();
    const wfSpec = create(WfSpecSchema, {
      id: { name: "typed" },
      entrypointThreadName: compiled.entrypointThreadName,
      threadSpecs: compiled.threadSpecs,
    });
    const vars = typedVariables(wfSpec, ["n", "5", "s", "5"]);
    expect(vars.n?.value).toEqual({ case: "int", value: 5n });
    expect(vars.s?.value).toEqual({ case: "str", value: "5" });
    expect(() => typedVariables(wfSpec, ["n", "1", "n", "2"])).toThrow(/given twice/);
    expect(() => typedVariables(wfSpec, ["x", "1"])).toThrow(/has no variable 'x'.*\(it has: n, s\)/);
  });

  it("types event content, NULL meaning none", () => {
    expect(eventContent(undefined, undefined).value.case).toBeUndefined();
    expect(eventContent("null", undefined).value.case).toBeUndefined();
    expect(eventContent("int", "3").value).toEqual({ case: "int", value: 3n });
    expect(() => eventContent("NULL", "3")).toThrow(CliUsageError);
  });
});

describe("execute's prompts", () => {
  const fields = [
    create(UserTaskFieldSchema, {
      name: "approved",
      type: VariableType.BOOL,
      displayName: "Approved?",
      required: true,
    }),
    create(UserTaskFieldSchema, {
      name: "note",
      type: VariableType.STR,
      displayName: "Note",
      description: "why",
    }),
    create(UserTaskFieldSchema, { name: "amount", type: VariableType.DOUBLE }),
    create(UserTaskFieldSchema, { name: "tags", type: VariableType.JSON_ARR, required: true }),
  ];

  it("asks for each field, again after a wrong or missing answer, and skips empty optional ones", async () => {
    const io = captureIO('maybe\n\ntrue\n\n12.5\n\n[1\n["a"]\n');
    const notes: string[] = [];
    const reader = new LineReader(io.stdin, io.stderr);
    const results = await promptForFields(fields, reader, (t) => notes.push(t));
    reader.close();
    expect(Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.value]))).toEqual({
      approved: { case: "bool", value: true },
      amount: { case: "double", value: 12.5 },
      tags: { case: "jsonArr", value: '["a"]' },
    });
    expect(notes).toEqual([
      "  'maybe' is not true or false: 'approved' is true or false, try again",
      "  'approved' is required",
      "Note: why",
      "  'tags' is required",
      expect.stringMatching(/^ {2}'\[1' is not JSON: .*'tags' is a JSON array, try again$/),
    ]);
    expect(io.err()).toContain("Approved? [approved, BOOL: true or false, required]: ");
    expect(io.err()).toContain("amount [amount, DOUBLE: a number, optional, Enter to skip]: ");
  });

  it("fails when the input ends before every required field is answered", async () => {
    const io = captureIO("true\n");
    const reader = new LineReader(io.stdin, io.stderr);
    await expect(promptForFields(fields, reader, () => undefined)).rejects.toThrow(
      /the input ended before field 'tags' was answered/,
    );
    reader.close();
  });

  it("labels questions by display name, name, type and whether they are required", () => {
    expect(fieldQuestion(fields[0]!)).toBe("Approved? [approved, BOOL: true or false, required]: ");
  });
});

describe("errors", () => {
  it("prints the status code's name and the server's message", () => {
    expect(describeError(new LHApiError("GetWfRun", 5, "WfRun 'x' not found"), "h:1")).toEqual({
      text: "error: NOT_FOUND: WfRun 'x' not found",
      code: 1,
    });
    const unavailable = describeError(new LHApiError("GetWfRun", 14, "connection refused"), "h:1");
    expect(unavailable.text).toMatch(
      /^error: UNAVAILABLE: connection refused\n\(no Pony server answered at h:1/,
    );
    expect(describeError(new CliUsageError("bad"), undefined)).toEqual({ text: "error: bad", code: 2 });
  });
});

describe("--help", () => {
  function leaves(cmd: Command, path: string[] = []): string[][] {
    const own = cmd.commands.filter((c) => c.name() !== "help");
    if (own.length === 0) return [path];
    return [path, ...own.flatMap((c) => leaves(c, [...path, c.name()]))];
  }

  it("every command and kind has help", async () => {
    const io = captureIO();
    const paths = leaves(buildProgram(new CliContext(io, () => ({ timeout: 1 })), io));
    expect(paths.length).toBeGreaterThan(45);
    for (const path of paths) {
      if (path[0] === "server") continue; // its flags (and --help) go to the server: see server.test.ts
      const io2 = captureIO();
      const code = await runCli([...path, "--help"], io2);
      expect(code, path.join(" ")).toBe(0);
      expect(io2.out()).toMatch(new RegExp(`^Usage: pony ${path.join(" ")}`.trimEnd()));
    }
  });

  it("an unknown command is a usage error", async () => {
    const io = captureIO();
    expect(await runCli(["frobnicate"], io)).toBe(2);
    expect(io.err()).toMatch(/error: unknown command 'frobnicate'/);
  });
});
