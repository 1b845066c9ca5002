"""Writes a man page (troff, section 1) for one tool from argument-parser's description of it
(`TOOL --experimental-dump-help`, on stdin): name, synopsis, description, options. Used by scripts/install.
Usage: TOOL --experimental-dump-help | python3 scripts/manpage.py NAME > NAME.1"""
import json
import sys


def roff(text):
    """Text safe in troff: backslashes doubled, and no line starting with a control character."""
    lines = text.replace("\\", "\\e").split("\n")
    return "\n".join(("\\&" + line) if line.startswith((".", "'")) else line for line in lines)


def option_names(argument):
    names = []
    for name in argument.get("names", []):
        dashes = "-" if name["kind"] == "short" else "--"
        names.append(dashes + name["name"])
    if argument["kind"] == "positional":
        names.append(argument["valueName"].upper())
    elif argument["kind"] == "option":
        names = [f"{n} <{argument['valueName']}>" for n in names]
    return ", ".join(names)


def main():
    if len(sys.argv) != 2:
        print("usage: TOOL --experimental-dump-help | python3 scripts/manpage.py NAME", file=sys.stderr)
        return 2
    name = sys.argv[1]
    command = json.load(sys.stdin)["command"]
    arguments = [a for a in command.get("arguments", []) if a.get("shouldDisplay", True)]
    out = [f'.TH "{name.upper()}" 1 "" "mnemosyne" "mnemosyne tools"',
           ".SH NAME", f"{roff(name)} \\- {roff(command.get('abstract', ''))}",
           ".SH SYNOPSIS", f".B {roff(name)}"]
    for argument in arguments:
        usage = option_names(argument).split(", ")[0]
        optional = argument.get("isOptional", False)
        out.append(roff(("[" + usage + "]") if optional else usage) + (" ..." if argument.get("isRepeating") else ""))
    out += [".SH DESCRIPTION", roff(command.get("abstract", ""))]
    for paragraph in command.get("discussion", "").split("\n\n"):
        if paragraph.strip():
            indented = paragraph.startswith("  ") or "\n  " in paragraph
            out += [".PP"] + ([".nf", roff(paragraph), ".fi"] if indented else [roff(paragraph)])
    out.append(".SH OPTIONS")
    for argument in arguments:
        text = argument.get("abstract", "")
        if argument.get("defaultValue"):
            text += f" (default: {argument['defaultValue']})"
        out += [".TP", f"\\fB{roff(option_names(argument))}\\fR", roff(text)]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
