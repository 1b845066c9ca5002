// Placeholder until the train tool lands.
print("train: not built yet")
