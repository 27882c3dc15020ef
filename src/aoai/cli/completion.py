"""``aoai completion SHELL``: static shell completion scripts generated from the command tree.

Static scripts (rather than Click's "call the program on every Tab") answer instantly and need
no Python at completion time. ``completions/`` holds the generated files; a test regenerates them
and fails when they are stale (``python -m aoai completion bash > completions/aoai.bash`` etc.).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import typer


class Shell(StrEnum):
    BASH = "bash"
    ZSH = "zsh"
    FISH = "fish"
    POWERSHELL = "powershell"


SCRIPT_FILES = {
    Shell.BASH: "aoai.bash",
    Shell.ZSH: "_aoai",
    Shell.FISH: "aoai.fish",
    Shell.POWERSHELL: "aoai.ps1",
}


@dataclass
class Node:
    """One command or group: its subcommands, options (with value choices) and help."""

    path: tuple[str, ...]
    help: str
    subcommands: dict[str, Node] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)  # flag -> help
    choices: dict[str, list[str]] = field(default_factory=dict)  # flag -> allowed values
    argument_choices: list[str] = field(default_factory=list)  # values of a positional with choices


def _choices(param: Any) -> list[str]:
    # Typer >= 0.2x describes types with a TypeDescriptor; older ones (and Click) with param.type.
    holder = getattr(param, "type_descriptor", None) or getattr(param, "type", None)
    choices = getattr(holder, "choices", None) or []
    return [str(getattr(c, "value", c)) for c in choices]


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0].strip() if (text or "").strip() else ""


def build_tree(command: Any, path: tuple[str, ...] = ()) -> Node:
    node = Node(path=path, help=_first_line(getattr(command, "help", None) or getattr(command, "short_help", None)))
    for param in getattr(command, "params", []):
        if getattr(param, "hidden", False):
            continue
        choices = _choices(param)
        if getattr(param, "param_type_name", "") == "argument":
            node.argument_choices.extend(choices)
            continue
        for flag in [*param.opts, *param.secondary_opts]:
            node.options[flag] = _first_line(getattr(param, "help", None))
            if choices:
                node.choices[flag] = choices
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        if getattr(sub, "hidden", False):
            continue
        node.subcommands[name] = build_tree(sub, (*path, name))
    return node


def _walk(node: Node) -> list[Node]:
    nodes = [node]
    for sub in node.subcommands.values():
        nodes.extend(_walk(sub))
    return nodes


def _words(node: Node) -> list[str]:
    return [*node.subcommands, *node.argument_choices, *node.options]


def _bash_function(tree: Node) -> str:
    lines = [
        "_aoai_completion() {",
        '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
        '    local path="" word i',
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        '        word="${COMP_WORDS[i]}"',
        '        case "$path:$word" in',
    ]
    for node in _walk(tree):
        key = " ".join(node.path)
        for name in node.subcommands:
            nxt = " ".join((*node.path, name))
            lines.append(f'            "{key}:{name}") path="{nxt}" ;;')
    lines += ["        esac", "    done", '    case "$path:$prev" in']
    for node in _walk(tree):
        key = " ".join(node.path)
        for flag, values in node.choices.items():
            words = " ".join(values)
            lines.append(f'        "{key}:{flag}") COMPREPLY=($(compgen -W "{words}" -- "$cur")); return 0 ;;')
    lines += ["    esac", '    case "$path" in']
    for node in _walk(tree):
        key = " ".join(node.path)
        lines.append(f'        "{key}") COMPREPLY=($(compgen -W "{" ".join(_words(node))}" -- "$cur")) ;;')
    lines += ["    esac", "    return 0", "}"]
    return "\n".join(lines)


def _fish(tree: Node) -> str:
    def esc(text: str) -> str:
        return text.replace("\\", "\\\\").replace("'", "\\'")

    lines = ["complete -c aoai -f"]
    for node in _walk(tree):
        if node.path:
            cond = " ".join(f"__fish_seen_subcommand_from {p};" for p in node.path).rstrip(";")
            cond = cond.replace("; ", "; and ")
        else:
            cond = "__fish_use_subcommand"
        if node.subcommands:
            names = " ".join(node.subcommands)
            sub_cond = cond if not node.path else f"{cond}; and not __fish_seen_subcommand_from {names}"
            for name, sub in node.subcommands.items():
                lines.append(f"complete -c aoai -n '{sub_cond}' -a {name} -d '{esc(sub.help)}'")
        for flag, help_text in node.options.items():
            spec = f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}"
            extra = f" -r -a '{' '.join(node.choices[flag])}'" if flag in node.choices else ""
            lines.append(f"complete -c aoai -n '{cond}' {spec}{extra} -d '{esc(help_text)}'")
    return "\n".join(lines)


def _powershell(tree: Node) -> str:
    entries = []
    for node in _walk(tree):
        key = " ".join(node.path)
        words = ", ".join(f"'{w}'" for w in _words(node))
        entries.append(f"    '{key}' = @({words})")
        for flag, values in node.choices.items():
            entries.append(f"    '{key}|{flag}' = @({', '.join(repr(v) for v in values)})")
    table = "\n".join(entries)
    return f"""# aoai PowerShell completion (generated by `aoai completion powershell`)
$aoaiCompletions = @{{
{table}
}}
Register-ArgumentCompleter -Native -CommandName aoai -ScriptBlock {{
    param($wordToComplete, $commandAst, $cursorPosition)
    $path = ''
    $prev = ''
    foreach ($element in $commandAst.CommandElements | Select-Object -Skip 1) {{
        $text = $element.ToString()
        if ($text -eq $wordToComplete) {{ break }}
        $candidate = ($path + ' ' + $text).Trim()
        if ($aoaiCompletions.ContainsKey($candidate)) {{ $path = $candidate }}
        $prev = $text
    }}
    $words = $aoaiCompletions[$path + '|' + $prev]
    if (-not $words) {{ $words = $aoaiCompletions[$path] }}
    $words | Where-Object {{ $_ -like "$wordToComplete*" }} | ForEach-Object {{
        [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
    }}
}}
"""


def script_for(shell: Shell, command: Any) -> str:
    tree = build_tree(command)
    if shell is Shell.BASH:
        body = _bash_function(tree)
        header = "# aoai bash completion (generated by `aoai completion bash`)"
        return f"{header}\n{body}\ncomplete -F _aoai_completion aoai\n"
    if shell is Shell.ZSH:
        body = _bash_function(tree)
        return (
            "#compdef aoai\n# aoai zsh completion (generated by `aoai completion zsh`; uses bashcompinit)\n"
            "autoload -U +X bashcompinit && bashcompinit\n"
            f"{body}\ncomplete -F _aoai_completion aoai\n"
        )
    if shell is Shell.FISH:
        return f"# aoai fish completion (generated by `aoai completion fish`)\n{_fish(tree)}\n"
    return _powershell(tree)


def completion(shell: Shell = typer.Argument(..., help="bash, zsh, fish or powershell.")) -> None:
    """Print a static completion script for SHELL.

    Examples:
      aoai completion bash > ~/.local/share/bash-completion/completions/aoai
      aoai completion zsh > "${fpath[1]}/_aoai"
      aoai completion fish > ~/.config/fish/completions/aoai.fish
      aoai completion powershell >> $PROFILE
    """
    from aoai.cli import app

    typer.echo(script_for(shell, typer.main.get_command(app)), nl=False)
