// Placeholder until the Ingestion module lands.
enum _IngestionPlaceholder {}
