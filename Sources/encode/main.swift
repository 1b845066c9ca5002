// Placeholder until the encode tool lands.
print("encode: not built yet")
