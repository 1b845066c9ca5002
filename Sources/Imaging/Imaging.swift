// Placeholder until the Imaging module lands.
enum _ImagingPlaceholder {}
