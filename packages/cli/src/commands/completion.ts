/**
 * `pony completion bash|zsh`: prints a shell completion script for the `pony` command, made from the
 * command tree itself (so it never falls behind a new verb): commands, their subcommands (`get wfRun`) and
 * options, and the values of `-o`. zsh runs the same function through bashcompinit.
 *
 *   source <(pony completion bash)                        # ~/.bashrc
 *   source <(pony completion zsh)                         # ~/.zshrc
 */
import { Argument, type Command } from "commander";
import type { CliContext } from "../context";

/** the words that may come after a command: its subcommands and its options' long and short names */
function wordsOf(cmd: Command): string[] {
  const words = cmd.commands.map((c) => c.name());
  for (const o of cmd.options) {
    if (o.hidden) continue;
    if (o.long) words.push(o.long);
    if (o.short) words.push(o.short);
  }
  words.push("--help");
  return words;
}

/** The bash completion function for a program. */
export function bashCompletion(program: Command): string {
  const cases: string[] = [];
  const add = (path: string, cmd: Command) =>
    cases.push(`    "${path}") words="${wordsOf(cmd).join(" ")}" ;;`);
  add("", program);
  for (const cmd of program.commands) {
    add(cmd.name(), cmd);
    for (const sub of cmd.commands) add(`${cmd.name()} ${sub.name()}`, sub);
  }
  const withValue = program.options
    .filter((o) => o.required || o.optional)
    .flatMap((o) => [o.long, o.short].filter(Boolean));
  return `# pony completion for bash (and zsh via bashcompinit): source <(pony completion bash)
_pony() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local words="" path="" n=0 i w skip=0
  case "$prev" in
    -o|--output) COMPREPLY=( $(compgen -W "table json" -- "$cur") ); return ;;
  esac
  # the command path: the first words that are not options (nor a global option's value)
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if [ "$skip" = 1 ]; then skip=0; continue; fi
    case "$w" in
      ${withValue.join("|")}) skip=1 ;;
      -*) ;;
      *) if [ "$n" -lt 2 ]; then path="\${path:+$path }$w"; n=$((n + 1)); fi ;;
    esac
  done
  while :; do
    case "$path" in
${cases.join("\n")}
    *) words="" ;;
    esac
    if [ -n "$words" ] || [ -z "$path" ]; then break; fi
    case "$path" in *" "*) path="\${path% *}" ;; *) path="" ;; esac
  done
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}
complete -F _pony pony
`;
}

export function registerCompletionCommand(program: Command, ctx: CliContext): void {
  program
    .command("completion")
    .description("print a shell completion script: source <(pony completion bash), or zsh")
    .addArgument(new Argument("<shell>", "bash or zsh").choices(["bash", "zsh"]))
    .action((shell: "bash" | "zsh") => {
      const script = bashCompletion(program);
      const out =
        shell === "zsh"
          ? `#compdef pony\n# pony completion for zsh: source <(pony completion zsh)\nautoload -U +X compinit && compinit\nautoload -U +X bashcompinit && bashcompinit\n${script}`
          : script;
      ctx.io.stdout.write(out);
    });
}
