// Placeholder until the ToolSupport module lands.
enum _ToolSupportPlaceholder {}
