// Placeholder until the TensorStream module lands.
enum _TensorStreamPlaceholder {}
