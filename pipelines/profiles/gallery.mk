# gallery: what an artist would exhibit: 128x128 models trained for thousands of steps, 30-second
# loops upscaled to 512x512. Half an hour to an hour per piece on a 2-core CPU; run one piece at a time, or overnight.
# With 400 pictures a selection of 16 candidates each would cost a minute every 100 steps: 8 every 200.
SIZE            := 128
PICTURES        := 400
PLATO_PICTURES  := 135
DAVID_PICTURES  := 15
STEPS           := 2000
PLATO_STEPS     := 2000
FINE_TUNE_STEPS := 500
ARCH            := fastgan
OBJECTIVE       := imle
# train's options for the coverage objective (imle, imle-gan), beside its defaults.
COVERAGE        := --candidates 8 --reselect-every 200
WIDTH           := 16
BATCH           := 16
FRAMES          := 900
PROJECT_STEPS   := 200
HOLD            := 24
KEYS            := 12
SCALE           := 4
CRF             := 18
SHEET           := 8x8
SHEET_SCALE     := 2
PREVIEW_EVERY   := 50
TIMELAPSE_FPS   := 8
PROFILE_NOTE    := 128x128, fastgan trained with imle (coverage), 2000 steps each: half an hour to an hour per piece on a 2-core CPU
