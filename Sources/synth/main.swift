// Placeholder until the synth tool lands.
print("synth: not built yet")
