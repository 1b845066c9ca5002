// Placeholder until the sample tool lands.
print("sample: not built yet")
