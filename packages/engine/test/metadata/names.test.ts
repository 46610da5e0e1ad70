import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../src/errors";
import { validateName } from "../../src/metadata";

describe("validateName", () => {
  it.each(["a", "abc", "my-task", "a1-b2-c3", "0", "9to5", "x".repeat(128)])(
    "B-META-2 accepts the name %j",
    (name) => {
      expect(() => validateName("TaskDef", name)).not.toThrow();
    },
  );

  it.each(["", "Foo", "my_task", "-a", "a-", "a b", "a.b", "ünïcode", "UPPER", "a/b", " a"])(
    "B-META-2 rejects the name %j",
    (name) => {
      expect(() => validateName("TaskDef", name)).toThrow(InvalidArgumentError);
    },
  );

  it("B-META-2 the message names the kind, the name and the rule", () => {
    expect(() => validateName("TaskDef", "Foo")).toThrow(
      "invalid TaskDef name 'Foo': names are lower-case letters, digits and inner hyphens",
    );
    expect(() => validateName("WfSpec", "a_b")).toThrow("invalid WfSpec name 'a_b'");
  });

  it("B-META-2 rejects names longer than 128 characters", () => {
    expect(() => validateName("UserTaskDef", "x".repeat(129))).toThrow(InvalidArgumentError);
    expect(() => validateName("UserTaskDef", "x".repeat(129))).toThrow("at most 128 characters");
  });
});
