// Placeholder until the Neural module lands.
enum _NeuralPlaceholder {}
