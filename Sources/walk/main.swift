// Placeholder until the walk tool lands.
print("walk: not built yet")
