/**
 * Issue 5 (workflow builder): mistakes fail at compile() with an LHWorkflowError that says what is wrong and
 * points at the offending line of the workflow's source (this file: each such line carries a `// @mark`
 * comment, and the test checks the error's location is exactly that line).
 */
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { LHWorkflowError, Workflow, type WfRunVariable, type WorkflowThread } from "../../src/workflow";

const SOURCE_FILE = fileURLToPath(import.meta.url);
const SOURCE_LINES = fs.readFileSync(SOURCE_FILE, "utf8").split("\n");

/** The 1-based line of this file carrying `// @<mark>`. */
function lineOf(mark: string): number {
  const i = SOURCE_LINES.findIndex((l) => l.trimEnd().endsWith(`// @${mark}`));
  if (i < 0) throw new Error(`no line marked @${mark}`);
  return i + 1;
}

/** Compiles, expects an LHWorkflowError matching `message` located at the line marked `mark`. */
function expectError(wf: Workflow, message: RegExp, mark: string): LHWorkflowError {
  let error: unknown;
  try {
    wf.compile();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(LHWorkflowError);
  const err = error as LHWorkflowError;
  expect(err.message).toMatch(message);
  expect(err.location).toBe(`${SOURCE_FILE}:${lineOf(mark)}:${err.location?.split(":").pop()}`);
  expect(err.message.endsWith(`(at ${err.location})`)).toBe(true);
  return err;
}

describe("issue 5 compile-time errors point at the user's line", () => {
  it("issue 5 a variable from another workflow", () => {
    let foreign: WfRunVariable | undefined;
    Workflow.newWorkflow("other", (wf) => {
      foreign = wf.declareStr("name");
    }).compile();
    const wf = Workflow.newWorkflow("uses-foreign", (wf) => {
      wf.execute("greet", foreign!); // @foreign
    });
    const err = expectError(wf, /variable 'name' belongs to another workflow \(WfSpec 'other'/, "foreign");
    expect(err.message).toMatch(/^WfSpec 'uses-foreign', thread 'entrypoint': /);
  });

  it("issue 5 a variable kept from an earlier compile() of the same workflow", () => {
    let kept: WfRunVariable | undefined;
    let round = 0;
    const wf = Workflow.newWorkflow("recompile", (wf) => {
      round++;
      const mine = wf.declareStr("name");
      wf.execute("greet", round === 1 ? mine : kept!); // @recompile
      kept = mine;
    });
    wf.compile();
    expectError(wf, /variable 'name' belongs to another workflow/, "recompile");
  });

  it("issue 5 a variable of a sibling thread is not visible", () => {
    let leaked: WfRunVariable | undefined;
    const wf = Workflow.newWorkflow("sibling", (wf) => {
      wf.spawnThread((t) => {
        leaked = t.declareStr("secret");
      }, "a");
      wf.spawnThread((t) => {
        t.execute("use", leaked!); // @sibling
      }, "b");
    });
    expectError(
      wf,
      /thread 'b': variable 'secret' is declared in thread 'a', which is not visible here/,
      "sibling",
    );
  });

  it("issue 5 a variable of a child thread is not visible in a handler of the parent", () => {
    let childVar: WfRunVariable | undefined;
    const wf = Workflow.newWorkflow("child-var", (wf) => {
      wf.spawnThread((t) => {
        childVar = t.declareInt("count");
      }, "child");
      const node = wf.execute("x");
      wf.handleAnyFailure(node, (h) => {
        h.mutate(childVar!, "ADD", 1); // @childvar
      });
    });
    expectError(wf, /variable 'count' is declared in thread 'child', which is not visible here/, "childvar");
  });

  it("issue 5 using the parent's WorkflowThread inside a child thread's function", () => {
    const wf = Workflow.newWorkflow("wrong-thread", (wf) => {
      wf.spawnThread(() => {
        wf.execute("oops"); // @wrongthread
      }, "child");
    });
    expectError(wf, /thread 'entrypoint': this WorkflowThread is already built/, "wrongthread");
  });

  it("issue 5 doElse() twice on the same if", () => {
    const wf = Workflow.newWorkflow("else-twice", (wf) => {
      const n = wf.declareInt("n");
      const ifs = wf.doIf(wf.condition(n, ">", 1), (t) => t.execute("a"));
      ifs.doElse((t) => t.execute("b"));
      ifs.doElse((t) => t.execute("c")); // @elsetwice
    });
    expectError(
      wf,
      /doElse\(\) without an open doIf\(\): the doIf\(\) at .*:\d+:\d+ already has its doElse\(\)/,
      "elsetwice",
    );
  });

  it("issue 5 doElseIf() after doElse()", () => {
    const wf = Workflow.newWorkflow("elseif-after-else", (wf) => {
      const n = wf.declareInt("n");
      const ifs = wf.doIf(wf.condition(n, ">", 1), (t) => t.execute("a"));
      ifs.doElse((t) => t.execute("b"));
      ifs.doElseIf(wf.condition(n, ">", 0), (t) => t.execute("c")); // @elseifafterelse
    });
    expectError(wf, /doElseIf\(\) without an open doIf\(\).*already has its doElse\(\)/, "elseifafterelse");
  });

  it("issue 5 doElse() on an if that is finished (steps were added after it)", () => {
    const wf = Workflow.newWorkflow("else-late", (wf) => {
      const n = wf.declareInt("n");
      const ifs = wf.doIf(wf.condition(n, ">", 1), (t) => t.execute("a"));
      wf.execute("in-between");
      ifs.doElse((t) => t.execute("b")); // @elselate
    });
    expectError(
      wf,
      /doElse\(\) without an open doIf\(\).*is finished, other steps were added after it/,
      "elselate",
    );
  });

  it("issue 5 a task input of the wrong type, when the TaskDef's inputs are given", () => {
    const wf = Workflow.newWorkflow("wrong-input", (wf) => {
      const name = wf.declareStr("name");
      wf.execute("greet", name);
      wf.execute("add", 1, name); // @wronginput
    }).withTaskDefs({
      greet: ["STR"],
      add: [
        { name: "a", type: "INT" },
        { name: "b", type: "INT" },
      ],
    });
    expectError(wf, /TaskDef 'add' input 1 \('b'\) is INT but is given a STR value/, "wronginput");
  });

  it("issue 5 a task given the wrong number of inputs, when the TaskDef's inputs are given", () => {
    const wf = Workflow.newWorkflow("wrong-count", (wf) => {
      wf.execute("greet"); // @wrongcount
    }).withTaskDefs({ greet: ["STR"] });
    expectError(wf, /TaskDef 'greet' takes 1 input \(\?: STR\) but is given 0/, "wrongcount");
  });

  it("issue 5 a reminder task's inputs are checked too", () => {
    const wf = Workflow.newWorkflow("wrong-reminder", (wf) => {
      const ut = wf.assignUserTask("approve", "me");
      wf.scheduleReminderTask(ut, 10, "remind", 3.5); // @wrongreminder
    }).withTaskDefs({ remind: ["INT"] });
    expectError(wf, /TaskDef 'remind' input 0 is INT but is given a DOUBLE value/, "wrongreminder");
  });

  it("issue 5 mutating with an incompatible literal type", () => {
    const wf = Workflow.newWorkflow("bad-mutation", (wf) => {
      const n = wf.declareInt("n");
      wf.mutate(n, "ASSIGN", "seven"); // @badassign
    });
    expectError(wf, /mutating variable 'n': cannot ASSIGN a STR value to an INT variable/, "badassign");
  });

  it("issue 5 other impossible mutations", () => {
    const cases: [string, (wf: WorkflowThread) => void, RegExp][] = [
      [
        "frac",
        (wf) => wf.mutate(wf.declareInt("n"), "ASSIGN", 1.5),
        /cannot ASSIGN a DOUBLE value to an INT/,
      ],
      [
        "bool-add",
        (wf) => wf.mutate(wf.declareBool("b"), "ADD", true),
        /ADD needs an INT, DOUBLE, STR or JSON_ARR/,
      ],
      [
        "num-add",
        (wf) => wf.mutate(wf.declareInt("n"), "ADD", "x"),
        /ADD on an INT variable needs an INT or DOUBLE/,
      ],
      [
        "extend",
        (wf) => wf.mutate(wf.declareJsonArr("a"), "EXTEND", "x"),
        /EXTEND on a JSON_ARR variable needs a JSON_ARR/,
      ],
      ["div0", (wf) => wf.mutate(wf.declareDouble("d"), "DIVIDE", 0), /DIVIDE by a literal zero/],
      ["rmkey", (wf) => wf.mutate(wf.declareJsonArr("a"), "REMOVE_KEY", "k"), /REMOVE_KEY needs a JSON_OBJ/],
      [
        "rmidx",
        (wf) => wf.mutate(wf.declareJsonArr("a"), "REMOVE_INDEX", "0"),
        /needs an INT index, not STR/,
      ],
      [
        "op",
        (wf) => wf.mutate(wf.declareInt("n"), "INCREMENT" as "ADD", 1),
        /unknown mutation type "INCREMENT"/,
      ],
    ];
    for (const [name, body, message] of cases) {
      expect(() => Workflow.newWorkflow(`m-${name}`, body).compile(), name).toThrow(message);
    }
  });

  it("issue 5 a duplicate variable name", () => {
    const wf = Workflow.newWorkflow("dup-var", (wf) => {
      wf.declareStr("name");
      wf.declareInt("name"); // @dupvar
    });
    expectError(
      wf,
      /variable 'name' is already declared in this thread \(at .*errors\.test\.ts:\d+:\d+\)/,
      "dupvar",
    );
  });

  it("issue 5 a default value of the wrong type", () => {
    const wf = Workflow.newWorkflow("bad-default", (wf) => {
      wf.declareInt("n", 1.5); // @baddefault
    });
    expectError(wf, /variable 'n': the default value is DOUBLE, not INT/, "baddefault");
  });

  it("issue 5 spawnThread() passing a variable the child does not declare", () => {
    const wf = Workflow.newWorkflow("undeclared-input", (wf) => {
      wf.spawnThread((t) => t.execute("x"), "child", { missing: 1 }); // @undeclaredinput
    });
    expectError(
      wf,
      /thread 'child' is given variable 'missing', which it does not declare/,
      "undeclaredinput",
    );
  });

  it("issue 5 INHERITED_VAR without a parent WfSpec", () => {
    const wf = Workflow.newWorkflow("no-parent", (wf) => {
      wf.declareStr("x").withAccessLevel("INHERITED_VAR"); // @inherited
    });
    expectError(wf, /variable 'x' is INHERITED_VAR but the workflow has no parent/, "inherited");
  });

  it("issue 5 a format string referring to a missing argument", () => {
    const wf = Workflow.newWorkflow("bad-format", (wf) => {
      wf.execute("say", wf.format("{0} {1}", "only one")); // @badformat
    });
    expectError(wf, /format string "\{0\} \{1\}" refers to \{1\} but has only 1 argument/, "badformat");
  });

  it("issue 5 jsonPath() on a STR variable", () => {
    const wf = Workflow.newWorkflow("bad-json-path", (wf) => {
      wf.execute("x", wf.declareStr("s").jsonPath("$.a")); // @badjsonpath
    });
    expectError(
      wf,
      /variable 's': jsonPath\(\) needs a JSON_OBJ or JSON_ARR variable, not STR/,
      "badjsonpath",
    );
  });

  it("issue 5 a duplicate thread name", () => {
    const wf = Workflow.newWorkflow("dup-thread", (wf) => {
      wf.spawnThread((t) => t.execute("a"), "worker");
      wf.spawnThread((t) => t.execute("b"), "worker"); // @dupthread
    });
    expectError(wf, /there is already a thread named 'worker'/, "dupthread");
  });

  it("issue 5 a node output used in another thread", () => {
    const wf = Workflow.newWorkflow("foreign-output", (wf) => {
      const out = wf.execute("a");
      wf.spawnThread((t) => {
        t.execute("b", out); // @foreignoutput
      }, "child");
    });
    expectError(
      wf,
      /the output of node '1-a-TASK' of thread 'entrypoint' cannot be used in thread 'child'/,
      "foreignoutput",
    );
  });

  it("issue 5 steps after fail() are unreachable", () => {
    const wf = Workflow.newWorkflow("after-fail", (wf) => {
      wf.fail("boom", "stop");
      wf.execute("never"); // @afterfail
    });
    expectError(wf, /unreachable: the thread already ends at '1-boom-EXIT'/, "afterfail");
  });

  it("issue 5 an unknown comparator", () => {
    const wf = Workflow.newWorkflow("bad-cmp", (wf) => {
      wf.doIf(wf.condition(1, "=<" as "<=", 2), (t) => t.execute("x")); // @badcmp
    });
    expectError(wf, /unknown comparator "=<"/, "badcmp");
  });

  it("issue 5 an asynchronous thread function", () => {
    const wf = Workflow.newWorkflow("async", (wf) => {
      // a JS mistake TypeScript lets through: an async function is assignable to `(t) => void`
      // eslint-disable-next-line @typescript-eslint/no-misused-promises
      wf.doIf(wf.condition(1, "<", 2), async () => undefined); // @async
    });
    expectError(wf, /the body must be a synchronous function/, "async");
  });

  it("issue 5 releaseToGroupOnDeadline() on a user task without a group", () => {
    const wf = Workflow.newWorkflow("no-group", (wf) => {
      const ut = wf.assignUserTask("approve", "someone");
      wf.releaseToGroupOnDeadline(ut, 60); // @nogroup
    });
    expectError(wf, /user task '1-approve-USER_TASK' has no user group to release to/, "nogroup");
  });

  it("issue 5 an invalid WfSpec name points at newWorkflow()", () => {
    const wf = Workflow.newWorkflow("Not_Valid", (wf) => wf.execute("x")); // @badname
    expectError(wf, /invalid WfSpec name/, "badname");
  });

  it("issue 5 LHWorkflowError carries the problem on its own", () => {
    const wf = Workflow.newWorkflow("problem", (wf) => {
      wf.declareStr("a");
      wf.declareStr("a"); // @problem
    });
    const err = expectError(wf, /already declared/, "problem");
    expect(err.name).toBe("LHWorkflowError");
    expect(err.problem).toMatch(/^variable 'a' is already declared in this thread/);
  });
});
