/// The version of the tools: what `TOOL --version` prints and what a checkpoint records as `tool_version`.
public let mnemosyneVersion = "0.1.0"
