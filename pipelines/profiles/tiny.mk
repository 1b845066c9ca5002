# tiny: every stage runs, nothing is worth watching; for CI and for trying the Makefile (a minute or two).
SIZE            := 32
PICTURES        := 32
PLATO_PICTURES  := 24
DAVID_PICTURES  := 8
STEPS           := 20
PLATO_STEPS     := 20
FINE_TUNE_STEPS := 10
ARCH            := fastgan
OBJECTIVE       := imle
# train's options for the coverage objective (imle, imle-gan), beside its defaults.
COVERAGE        :=
WIDTH           := 4
BATCH           := 8
FRAMES          := 24
PROJECT_STEPS   := 5
HOLD            := 2
KEYS            := 3
SCALE           := 2
CRF             := 28
SHEET           := 4x2
SHEET_SCALE     := 1
PREVIEW_EVERY   := 5
TIMELAPSE_FPS   := 4
PROFILE_NOTE    := 32x32, 20 steps: seconds per piece, for tests
