# default: all six pieces at 64x64, 600 steps of the coverage objective each; short loops,
# nameable subjects, soft details.
SIZE            := 64
PICTURES        := 150
PLATO_PICTURES  := 135
DAVID_PICTURES  := 15
STEPS           := 600
PLATO_STEPS     := 600
FINE_TUNE_STEPS := 250
ARCH            := fastgan
OBJECTIVE       := imle
# train's options for the coverage objective (imle, imle-gan), beside its defaults.
COVERAGE        :=
WIDTH           := 16
BATCH           := 16
FRAMES          := 240
PROJECT_STEPS   := 100
HOLD            := 10
KEYS            := 6
SCALE           := 4
CRF             := 20
SHEET           := 8x4
SHEET_SCALE     := 2
PREVIEW_EVERY   := 25
TIMELAPSE_FPS   := 8
PROFILE_NOTE    := 64x64, fastgan trained with imle (coverage), 600 steps each: 26 CPU-minutes for the nine models (18 minutes on 2 cores)
