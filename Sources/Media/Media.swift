// Placeholder until the Media module lands.
enum _MediaPlaceholder {}
