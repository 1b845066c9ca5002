// Placeholder until the ingest tool lands.
print("ingest: not built yet")
