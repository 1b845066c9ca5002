// Placeholder until the Synth module lands.
enum _SynthPlaceholder {}
