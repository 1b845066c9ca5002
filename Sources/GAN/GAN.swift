// Placeholder until the GAN module lands.
enum _GANPlaceholder {}
